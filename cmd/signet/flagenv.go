package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-id/signet/config"
)

// flagEnvName is the environment variable that sets a flag: SIGNET_ and
// the flag's name in capitals, with - as _ (--log-format:
// SIGNET_LOG_FORMAT).
func flagEnvName(flag string) string {
	return "SIGNET_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// cliOnly marks a flag that no environment variable sets: one that skips
// a confirmation or makes a key change take effect at once (keys revoke
// --yes, keys rotate --now). Set in a container's environment, such a
// variable would turn every later command destructive without anyone
// typing it.
const cliOnly = "signet_cli_only"

// markCLIOnly marks flag name of cmd as command-line only (cliOnly).
func markCLIOnly(cmd *cobra.Command, name string) {
	_ = cmd.Flags().SetAnnotation(name, cliOnly, []string{"true"})
}

// isCLIOnly reports whether f is command-line only.
func isCLIOnly(f *pflag.Flag) bool { return len(f.Annotations[cliOnly]) > 0 }

// documentFlagEnv appends each visible flag's environment variable to its
// help text, in every command under root.
func documentFlagEnv(root *cobra.Command) {
	seen := make(map[*pflag.Flag]bool)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.PersistentFlags(), c.Flags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if seen[f] || f.Hidden {
					return
				}
				seen[f] = true
				if isCLIOnly(f) {
					f.Usage += " [command line only]"
					return
				}
				f.Usage += " [$" + flagEnvName(f.Name) + "]"
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// applyFlagEnv sets each flag of cmd that the command line left unset
// from its environment variable (flagEnvName), when that is set and not
// empty. The command line wins over the environment, the environment over
// the default. A value the flag rejects is a usage error naming the
// variable.
func applyFlagEnv(cmd *cobra.Command, lookup config.LookupEnv) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Hidden || f.Name == "help" || isCLIOnly(f) {
			return
		}
		name := flagEnvName(f.Name)
		v, ok := lookup(name)
		if !ok || v == "" {
			return
		}
		if serr := cmd.Flags().Set(f.Name, v); serr != nil {
			err = usageError{fmt.Errorf("%s=%q (for --%s): %w", name, v, f.Name, serr)}
		}
	})
	return err
}
