package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Subcommands are added here, one
// constructor per file.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "signet",
		Short: "An OpenID Connect / OAuth 2.0 token server whose signing keys manage themselves",
		Long: `Signet issues OAuth 2.0 access tokens (RFC 9068 JWTs) and publishes its
signing keys through OpenID Connect discovery. Its signing keys are created,
announced, rotated, retired and deleted on a schedule, without downtime.

Start a development server:   signet serve --dev
Run with a configuration:     signet serve --config signet.yaml

Every flag can also be set with an environment variable, for containers:
SIGNET_ and the flag's name in capitals with - as _ (SIGNET_CONFIG,
SIGNET_LISTEN, SIGNET_LOG_FORMAT, ...); each flag's help names it. A flag
on the command line wins over the variable.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyFlagEnv(cmd, e.lookupEnv)
		},
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(
		newServeCmd(e),
		newHashSecretCmd(e),
		newHashPasswordCmd(e),
		newVersionCmd(e),
		newKeysCmd(e),
		newClientsCmd(e),
		newResourcesCmd(e),
		newConfigCmd(e),
		newHealthcheckCmd(e),
	)
	documentFlagEnv(root)
	return root
}
