package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// usersOptions are the flags every `signet users` subcommand shares.
//
// This is a minimal parent for `users consents` (users_consents.go); the
// user commands of issue 17 point 1 (add, list, ...) join it.
type usersOptions struct {
	configPath string
}

func newUsersCmd(e *env) *cobra.Command {
	o := &usersOptions{}
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the people who sign in: their remembered consents",
		Long: `users works on the store named by the configuration (--config), whether or
not a server is running. Exit codes: 0 success, 1 failure, 2 usage error.`,
		Example: `  signet users consents list --config signet.yaml
  signet users consents revoke --config signet.yaml --user alice --client portal`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("users needs a subcommand: consents (see signet users --help)")}
		},
	}
	cmd.PersistentFlags().StringVarP(&o.configPath, "config", "c", defaultConfigPath, "the configuration file of the server whose store to use")
	cmd.AddCommand(newUsersConsentsCmd(e, o))
	return cmd
}
