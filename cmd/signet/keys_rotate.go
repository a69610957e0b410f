package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

func newKeysRotateCmd(e *env, o *keysOptions) *cobra.Command {
	var (
		alg string
		now bool
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Announce a new key ahead of schedule (--now: sign with it at once)",
		Long: `rotate announces a new managed key for an algorithm (--alg, default the first
of keyManagement.signingAlgorithms). It is published at once and signs after
propagationTime, when the current key retires early; the current key stays
published for retentionDuration after that. It fails if a successor is
already announced.

With --now the new key signs at once and the current key retires at once.
Relying parties that cached the JWKS before the rotation do not know the new
key: those that refetch on an unknown kid recover at once, those that only
refresh periodically reject its tokens until their cache expires. Use --now
when the current key must stop signing immediately (or revoke it).

Running servers pick the change up from the store within about a second.`,
		Example: `  signet keys rotate --config signet.yaml
  signet keys rotate --config signet.yaml --alg ES256
  signet keys rotate --config signet.yaml --alg RS256 --now`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var a key.Algorithm
			if alg != "" {
				var err error
				if a, err = key.ParseAlgorithm(alg); err != nil {
					return usageError{fmt.Errorf("--alg: %w", err)}
				}
			}
			s, err := openKeys(cmd.Context(), o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			if !s.cfg.KeyManagement.Enabled {
				return fmt.Errorf("keyManagement.enabled is false in %s: there are no managed keys to rotate; enable key management (see docs/migrating-from-static-keys.md)", s.cfg.Source)
			}
			before := s.m.Keys()
			nk, err := s.m.Rotate(cmd.Context(), a, now)
			if err != nil {
				return err
			}
			printRotation(e, s, before, nk, now)
			return nil
		},
	}
	cmd.Flags().StringVar(&alg, "alg", "", "the algorithm to rotate (default: the first configured)")
	cmd.Flags().BoolVar(&now, "now", false, "sign with the new key at once (clients that cache the JWKS may reject its tokens until they refresh)")
	markCLIOnly(cmd, "now")
	return cmd
}

func printRotation(e *env, s *keysSession, before []keymanager.KeyInfo, nk keymanager.KeyInfo, now bool) {
	t := s.now()
	var prev string
	for _, k := range before {
		if k.Algorithm == nk.Algorithm && k.State == key.StateActive {
			prev = k.KID
		}
	}
	var after keymanager.KeyInfo
	var withdrawn []string
	for _, k := range s.m.Keys() {
		if k.KID == prev {
			after = k
		}
		if k.State != key.StateRevoked || k.Algorithm != nk.Algorithm {
			continue
		}
		for _, b := range before {
			if b.KID == k.KID && b.State != key.StateRevoked {
				withdrawn = append(withdrawn, k.KID)
			}
		}
	}
	if now {
		fmt.Fprintf(e.stdout, "rotated %s now: new key %s signs from %s\n", nk.Algorithm, nk.KID, stamp(nk.SignsFrom))
		if prev != "" {
			fmt.Fprintf(e.stdout, "%s retired; it stays published until %s (%s)\n", prev, stamp(after.DeleteAfter), until(t, after.DeleteAfter))
		}
		for _, kid := range withdrawn {
			fmt.Fprintf(e.stdout, "%s, announced but never used, is withdrawn\n", kid)
		}
		fmt.Fprintf(e.stderr, "warning: the new key signs at once: relying parties that cached the JWKS in the last %s (relyingPartyCache %s + jwksMaxAge %s) and do not refetch on an unknown kid reject its tokens until they refresh; without --now a key is announced for propagationTime first\n",
			advisor.FormatDuration(s.cfg.RelyingPartyCache+s.cfg.JWKSMaxAge), advisor.FormatDuration(s.cfg.RelyingPartyCache), advisor.FormatDuration(s.cfg.JWKSMaxAge))
		return
	}
	fmt.Fprintf(e.stdout, "rotated %s: announced key %s; it signs from %s (%s)\n", nk.Algorithm, nk.KID, stamp(nk.SignsFrom), until(t, nk.SignsFrom))
	if prev != "" {
		fmt.Fprintf(e.stdout, "%s signs until then and stays published until %s\n", prev, stamp(after.DeleteAfter))
	}
}
