package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/internal/sqlschema"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

func newConfigCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Work with the configuration file",
		Example: "  signet config check --config signet.yaml",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("config needs a subcommand: check (see signet config --help)")}
		},
	}
	cmd.AddCommand(newConfigCheckCmd(e))
	return cmd
}

func newConfigCheckCmd(e *env) *cobra.Command {
	var (
		path    string
		connect bool
		at      keysOptions // only its hidden --at (testing)
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and the timing rules of the key lifecycle",
		Long: `check loads the configuration as serve does (every option, key file and
environment variable) and then checks the timing rules that keep relying
parties working across key rotations:

  propagationTime   > relyingPartyCache + jwksMaxAge + keyCacheDuration
                      (every client has a new key before it signs)
  retentionDuration > the longest token lifetime of any client + clockSkew
                      (a retired key stays published while its tokens live)
  rotationInterval  > propagationTime
                      (a key signs after its announcement)

It runs exactly the validation serve runs before it listens: the listen
address, the protection secrets (an existing generated secret file too),
the signing and validation keys, clients, API resources and users.

It prints every rule with its numbers, and for a broken rule a value that
satisfies it. serve runs the same check at start-up and refuses to start on
a broken rule unless --unsafe-timing.

With --connect it also opens the store as serve does (a database's pending
schema migrations are applied then, as serve would apply them), reports its
schema version, opens every stored key with the configured secrets and
lists what it found, and says which key signs for each algorithm.

Exit code 0: serve starts with this file (with --connect: and becomes
ready); 1: it would not (an error in the file, a broken rule, a store it
cannot open, a stored key no configured secret opens); 2: a usage error.`,
		Example: `  signet config check --config signet.yaml
  signet config check --config signet.yaml --connect
  signet config check -c /etc/signet/signet.yaml && systemctl restart signet`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, e.lookupEnv)
			if err != nil {
				return err
			}
			if err := preflight(cfg, ""); err != nil {
				return err
			}
			for _, w := range cfg.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s\n", w)
			}
			checks := cfg.TimingChecks()
			broken := writeChecks(e.stdout, cfg, checks)
			writeBackendCheck(e.stdout, cfg)
			if broken > 0 {
				return fmt.Errorf("%s breaks %d timing rule(s); change the options as suggested above (serve refuses to start unless --unsafe-timing)", cfg.Source, broken)
			}
			if connect {
				now, err := at.clock()
				if err != nil {
					return err
				}
				return checkConnect(cmd.Context(), e.stdout, cfg, now)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, "the configuration file to check")
	cmd.Flags().BoolVar(&connect, "connect", false, "also open the store, check its schema and open every stored key with the configured secrets")
	cmd.Flags().StringVar(&at.at, "at", "", "act as if the time were this RFC 3339 instant (testing)")
	_ = cmd.Flags().MarkHidden("at")
	return cmd
}

// checkConnect is config check's --connect: it opens the store and every
// stored key as serve does at start and fails when serve would start but
// not become ready.
func checkConnect(ctx context.Context, w io.Writer, cfg *config.Config, now func() time.Time) error {
	switch cfg.Storage.Driver {
	case config.DriverMemory:
		fmt.Fprintln(w, "store: memory; nothing to connect to (serve creates new keys at every start)")
		return nil
	case config.DriverSQLite, config.DriverFile:
		if err := storeExists(cfg); err != nil {
			fmt.Fprintf(w, "store: %s; none yet (serve creates it and its keys at the first start)\n", cfg.Storage.Driver)
			return nil
		}
	}
	s, err := openKeysFor(ctx, cfg, now, true)
	if err != nil {
		return err
	}
	defer s.close()
	fmt.Fprintln(w, storeLine(cfg))
	keys := s.m.Keys()
	var unreadable []string
	managed := 0
	for _, k := range keys {
		if k.Created.IsZero() {
			continue // configured: checked by preflight
		}
		managed++
		st := listedState(k)
		if k.Unreadable == nil {
			fmt.Fprintf(w, "key   %s  %s  %s  opens\n", k.KID, k.Algorithm, st)
			continue
		}
		fmt.Fprintf(w, "key   %s  %s  %s  CANNOT BE OPENED: %s\n", k.KID, k.Algorithm, st, oneLine(k.Unreadable.Error()))
		if k.State != key.StateRevoked && k.State != key.StateExpired {
			unreadable = append(unreadable, k.KID)
		}
	}
	fmt.Fprintf(w, "keys: %d stored, %d open with the configured secrets\n", managed, managed-countUnreadable(keys))
	for _, ser := range s.m.Plan().Series {
		if !ser.Configured {
			continue
		}
		switch {
		case ser.Signing == "":
			fmt.Fprintf(w, "%s: no key yet; serve creates one at start\n", ser.Algorithm)
		case slices.Contains(unreadable, ser.Signing):
			fmt.Fprintf(w, "%s: its signing key %s cannot be opened\n", ser.Algorithm, ser.Signing)
		default:
			fmt.Fprintf(w, "%s: signs with %s\n", ser.Algorithm, ser.Signing)
		}
	}
	if len(unreadable) > 0 {
		return fmt.Errorf("%s: serve would start but not become ready: %d published key(s) cannot be opened with the configured secrets (%s); configure the secret that sealed them after the current one (see docs/key-management.md#unreadable-keys)",
			cfg.Source, len(unreadable), strings.Join(unreadable, ", "))
	}
	return nil
}

// storeLine describes the opened store without its credentials.
func storeLine(cfg *config.Config) string {
	switch cfg.Storage.Driver {
	case config.DriverSQLite:
		v, _ := sqlschema.Latest(sqlschema.SQLite)
		return fmt.Sprintf("store: sqlite %s, schema version %d (current)", sqlitePath(cfg.Storage.DSN), v)
	case config.DriverPostgres:
		v, _ := sqlschema.Latest(sqlschema.Postgres)
		return fmt.Sprintf("store: postgres, schema version %d (current)", v)
	}
	return fmt.Sprintf("store: file %s", cfg.Storage.KeyPath)
}

func countUnreadable(keys []keymanager.KeyInfo) int {
	n := 0
	for _, k := range keys {
		if k.Unreadable != nil {
			n++
		}
	}
	return n
}

// writeChecks prints the report and returns how many rules are broken.
func writeChecks(w io.Writer, cfg *config.Config, checks []advisor.Check) int {
	broken := 0
	for _, c := range checks {
		if !c.Holds {
			broken++
		}
	}
	switch {
	case checks == nil:
		fmt.Fprintf(w, "%s: valid; managed keys are disabled, so no timing rule applies\n", cfg.Source)
	case broken == 0:
		fmt.Fprintf(w, "%s: valid; every timing rule holds\n", cfg.Source)
	default:
		fmt.Fprintf(w, "%s: valid, but %d timing rule(s) are broken\n", cfg.Source, broken)
	}
	for _, c := range checks {
		if c.Holds {
			fmt.Fprintf(w, "ok    %s\n", c.Numbers)
			continue
		}
		fmt.Fprintf(w, "FAIL  %s\n      %s\n      suggestion: %s\n", c.Violation.Rule, c.Violation.Detail, c.Violation.Suggestion)
	}
	return broken
}

// checkServeTiming is serve's start-up (and reload) gate: a broken timing
// rule stops it unless unsafe is set, in which case each is logged at Warn.
func checkServeTiming(cfg *config.Config, unsafe bool, log *slog.Logger) error {
	v := cfg.CheckTiming()
	if len(v) == 0 {
		return nil
	}
	for _, x := range v {
		if unsafe {
			log.Warn("timing rule broken, allowed by --unsafe-timing: relying parties may reject valid tokens", "rule", x.Rule, "detail", x.Detail, "suggestion", x.Suggestion)
		} else {
			log.Error("timing rule broken", "rule", x.Rule, "detail", x.Detail, "suggestion", x.Suggestion)
		}
	}
	if unsafe {
		return nil
	}
	return fmt.Errorf("%s breaks %d timing rule(s), first %s (%s); relying parties could reject valid tokens: run signet config check --config %s for the numbers and suggested values, or pass --unsafe-timing to start anyway (tests only)",
		cfg.Source, len(v), v[0].Rule, v[0].Suggestion, cfg.Source)
}
