package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/config"
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
	var path string
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

It prints every rule with its numbers, and for a broken rule a value that
satisfies it. Exit code 0: valid and every rule holds; 1: an error in the
file or a broken rule; 2: a usage error. serve runs the same check at
start-up and refuses to start on a broken rule unless --unsafe-timing.`,
		Example: `  signet config check --config signet.yaml
  signet config check -c /etc/signet/signet.yaml && systemctl restart signet`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, e.lookupEnv)
			if err != nil {
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
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", defaultConfigPath, "the configuration file to check")
	return cmd
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
