package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

func newKeysRevokeCmd(e *env, o *keysOptions) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke KID",
		Short: "Unpublish a managed key at once (emergency); the next key signs",
		Long: `revoke removes a managed key from the JWKS at once: tokens it signed stop
validating as soon as relying parties refresh. If it was the signing key, the
next key signs: the announced successor if there is one, else a new key that
signs at once. The record is kept, in state revoked, until its deleteAfter.

It asks for confirmation on the terminal; --yes skips the question (needed
when stdin is not a terminal, e.g. in scripts). Configured keys
(signingCredential, validationKeys) cannot be revoked: remove them from the
configuration. See docs/operations.md#emergency-revoke.

Running servers pick the change up from the store within about a second.`,
		Example: `  signet keys revoke --config signet.yaml 9c1185a5c5e9fc54612808977ee8f548
  signet keys revoke --config signet.yaml --yes 9c1185a5c5e9fc54612808977ee8f548`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("revoke needs exactly one KID, got %d arguments; find it with signet keys list", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kid := args[0]
			s, err := openKeys(cmd.Context(), o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			var target *keymanager.KeyInfo
			keys := s.m.Keys()
			for i := range keys {
				if keys[i].KID == kid {
					target = &keys[i]
				}
			}
			switch {
			case target == nil:
				return fmt.Errorf("no key with kid %q in %s; find it with signet keys list --config %s", kid, s.cfg.Source, s.cfg.Source)
			case target.State == keymanager.StateStaticSigning:
				return fmt.Errorf("%s is the configured signingCredential, not a managed key; remove it from %s (after enabling managed keys) instead", kid, s.cfg.Source)
			case target.State == keymanager.StateValidation:
				return fmt.Errorf("%s is a configured validation key, not a managed key; remove it from validationKeys in %s instead", kid, s.cfg.Source)
			case target.State == key.StateRevoked:
				fmt.Fprintf(e.stdout, "%s was already revoked at %s; nothing changed\n", kid, stamp(target.Revoked))
				return nil
			}
			if !yes {
				if err := confirmRevoke(e, target); err != nil {
					return err
				}
			}
			if err := s.m.Revoke(cmd.Context(), kid); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked %s key %s: it is no longer published\n", target.Algorithm, kid)
			if target.State != key.StateActive {
				return nil
			}
			for _, k := range s.m.Keys() {
				if k.Algorithm != target.Algorithm || k.State != key.StateActive {
					continue
				}
				fmt.Fprintf(e.stdout, "%s now signs with %s\n", k.Algorithm, k.KID)
				if cache := s.cfg.RelyingPartyCache + s.cfg.JWKSMaxAge; s.now().Sub(k.Created) < cache {
					fmt.Fprintf(e.stderr, "warning: %s was first published %s, less than relyingPartyCache + jwksMaxAge (%s) ago; relying parties that do not refetch the JWKS on an unknown kid reject its tokens until their cache expires\n",
						k.KID, until(s.now(), k.Created), advisor.FormatDuration(cache))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "revoke without asking for confirmation")
	markCLIOnly(cmd, "yes")
	// A kid from an early build may begin with '-' and read as a flag.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (a KID that begins with '-' goes after '--': signet keys revoke --config signet.yaml -- KID)", err)}
	})
	return cmd
}

// confirmRevoke asks on the terminal; without one it refuses.
func confirmRevoke(e *env, k *keymanager.KeyInfo) error {
	if e.isTerminal == nil || !e.isTerminal() {
		return usageError{fmt.Errorf("revoke asks for confirmation, but stdin is not a terminal; pass --yes to revoke %s without asking", k.KID)}
	}
	what := "tokens it signed stop validating"
	if k.State == key.StateActive {
		what = "tokens it signed stop validating and the next key signs at once"
	}
	fmt.Fprintf(e.stderr, "Revoke %s key %s (%s)? It leaves the JWKS at once: %s. [y/N] ", k.Algorithm, k.KID, listedState(*k), what)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("revoke cancelled: no answer; nothing changed")
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("revoke of %s cancelled; nothing changed", k.KID)
}

// stdinIsTerminal reports whether the process's stdin is a terminal.
func stdinIsTerminal() bool {
	fd := os.Stdin.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}
