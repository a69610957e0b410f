package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore"
)

func newKeysStatusCmd(e *env, o *keysOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Name the phase of the migration from a static key, and when the next is safe",
		Long: `status names the phase of the migration from a static signing key to managed
keys (docs/migrating-from-static-keys.md) and says when the next phase is
safe, with the numbers behind it:

  static only   a signingCredential signs, managed keys are off
  phase 1       managed keys announced, the signingCredential still signs;
                phase 2 is safe once the managed keys have been published for
                keyManagement.relyingPartyCache + jwksMaxAge
  phase 2       managed keys sign, the old key is a validation key; phase 3 is
                safe once the longest token lifetime + keyManagement.clockSkew
                (+ the recording interval) has passed since the old key last
                signed
  phase 3       done: managed keys only

It reads the configuration and the timestamps the server records in the
store, so it works whether or not a server is running, and it warns when a
phase was left too early.

With a key backend (keyManagement.keyBackend: pkcs11 or awskms), or keys left
in another backend, it also says where new keys are made, which backend signs
each algorithm and whether a move is under way, how long keys of the old
backend remain and what must stay configured until then
(docs/hsm-and-kms.md).`,
		Example: `  signet keys status --config signet.yaml`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openKeys(cmd.Context(), o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			mig, err := keymanager.ReadMigration(cmd.Context(), s.store)
			if err != nil {
				return fmt.Errorf("read the migration's timestamps from the store: %w", err)
			}
			if err := writeStatus(e.stdout, advisor.Advise(adviceInput(s.cfg, mig, s.now())), s.now()); err != nil {
				return err
			}
			recs, err := s.store.Keys(cmd.Context())
			if err != nil {
				return fmt.Errorf("read the keys from the store: %w", err)
			}
			writeBackendStatus(e.stdout, s.cfg, recs, s.now())
			warnUnreadable(e, s.m.Keys())
			return keysTrouble(s)
		},
	}
}

// warnMigration logs at serve's start a migration step taken before
// `signet keys status` said it was safe (phase 2 begun too early, the old
// key dropped while its tokens live), as keys status reports it.
func warnMigration(ctx context.Context, cfg *config.Config, store keystore.Store, log *slog.Logger) {
	mig, err := keymanager.ReadMigration(ctx, store)
	if err != nil {
		log.Warn("reading the migration's timestamps failed", "err", err)
		return
	}
	if a := advisor.Advise(adviceInput(cfg, mig, time.Now())); a.Warning != "" {
		log.Warn("migration step taken too early: "+a.Warning, "phase", a.Phase.String())
	}
}

// adviceInput is the advisor's input for a configuration and the
// timestamps its store holds.
func adviceInput(cfg *config.Config, mig keymanager.Migration, now time.Time) advisor.Input {
	longest, _ := cfg.LongestTokenLifetime()
	return advisor.Input{
		Now:                  now,
		ManagedEnabled:       cfg.KeyManagement.Enabled,
		StaticSigning:        cfg.SigningCredential != nil,
		ValidationKeys:       len(cfg.ValidationKeys),
		ManagedAnnounced:     mig.ManagedAnnounced,
		StaticLastSigned:     mig.StaticLastSigned,
		Phase2Started:        mig.Phase2Started,
		RecordInterval:       keymanager.StaticRecordInterval,
		RelyingPartyCache:    cfg.RelyingPartyCache,
		JWKSMaxAge:           cfg.JWKSMaxAge,
		LongestTokenLifetime: longest,
		ClockSkew:            cfg.ClockSkew,
	}
}

// writeStatus prints the advice:
//
//	phase 1: announce managed keys (the static key signs)
//	next: move signingCredential to validationKeys (phase 2)
//	safe from 2026-03-02T13:00:00Z (in 20h59m)
//	why: ...
//	warning: ...
func writeStatus(w io.Writer, a advisor.Advice, now time.Time) error {
	fmt.Fprintln(w, a.Phase)
	if a.Next != "" {
		fmt.Fprintf(w, "next: %s\n", a.Next)
		switch {
		case a.Safe && a.SafeAt.IsZero():
			fmt.Fprintln(w, "safe now")
		case a.Safe:
			fmt.Fprintf(w, "safe now (since %s)\n", stamp(a.SafeAt))
		case !a.SafeAt.IsZero():
			fmt.Fprintf(w, "safe from %s (%s)\n", stamp(a.SafeAt), until(now, a.SafeAt))
		default:
			fmt.Fprintln(w, "not known yet when it is safe")
		}
	}
	if a.Why != "" {
		fmt.Fprintf(w, "why: %s\n", a.Why)
	}
	if a.Warning != "" {
		fmt.Fprintf(w, "warning: %s\n", a.Warning)
	}
	return nil
}
