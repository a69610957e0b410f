package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/mfa"
)

func newKeysResealCmd(e *env, o *keysOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reseal",
		Short: "Re-encrypt every stored key under the first protection secret",
		Long: `reseal re-encrypts every stored private key under the first secret of
keyManagement.protection.secrets (and seals keys stored unprotected). It
reports how many keys it resealed, how many were already sealed under the
first secret and how many no configured secret opens.

Each key is rewritten on its own, so an interrupted reseal (Ctrl-C, a crash)
leaves every key readable: run it again to finish. Once it reports no
unreadable key, the other secrets can be removed from the configuration.
See docs/operations.md#rotating-the-protection-secret.`,
		Example: `  # the new secret first, the old one second:
  #   protection: { secrets: [ "${SIGNET_KEY_SECRET}", "${SIGNET_OLD_KEY_SECRET}" ] }
  signet keys reseal --config signet.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := openKeys(ctx, o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			if !s.cfg.Protection.Enabled {
				return fmt.Errorf("keyManagement.protection.enabled is false in %s, so there is no secret to reseal under; turn protection on with a secret, then run reseal to seal the stored keys", s.cfg.Source)
			}
			res, err := s.m.Reseal(ctx)
			fmt.Fprintf(e.stdout, "resealed %d key(s) under the first secret; %d already sealed under it; %d unreadable\n", res.Resealed, res.Current, res.Unreadable)
			switch {
			case res.Unreadable > 0:
				return fmt.Errorf("%d key(s) cannot be opened with any configured secret; add the secret that sealed them to keyManagement.protection.secrets (after the first) and run reseal again", res.Unreadable)
			case err != nil:
				return fmt.Errorf("reseal stopped: %w; every key is still readable, run reseal again to finish", err)
			}
			if ms := signet.MFAStore(s.store); ms != nil && s.sealer != nil {
				// The second factors' TOTP secrets are sealed with the same secrets.
				mr, err := mfa.Reseal(ctx, ms, s.sealer)
				if mr != (mfa.ResealResult{}) || err != nil {
					fmt.Fprintf(e.stdout, "resealed %d TOTP secret(s) under the first secret; %d already sealed under it; %d unreadable\n", mr.Resealed, mr.Current, mr.Unreadable)
				}
				switch {
				case mr.Unreadable > 0:
					return fmt.Errorf("%d TOTP secret(s) cannot be opened with any configured secret; add the secret that sealed them to keyManagement.protection.secrets (after the first) and run reseal again, or reset those users' second factor (signet users reset-mfa)", mr.Unreadable)
				case err != nil:
					return fmt.Errorf("reseal of the TOTP secrets stopped: %w; every secret is still readable, run reseal again to finish", err)
				}
			}
			if n := len(s.cfg.Protection.Secrets); n > 1 {
				fmt.Fprintf(e.stdout, "every key is sealed under the first secret: the other %d secret(s) can be removed from keyManagement.protection.secrets\n", n-1)
			}
			return nil
		},
	}
}
