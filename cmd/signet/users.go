package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// usersOptions are the flags every `signet users` subcommand shares.
//
// This is the minimal parent of `signet users reset-mfa`; the full users
// command (add, list, show, update, ...) comes with the users kept in
// the store, and takes reset-mfa as one more subcommand.
type usersOptions struct {
	configPath string
}

func newUsersCmd(e *env) *cobra.Command {
	o := &usersOptions{}
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the users of the configured store",
		Long: `users works on what the store named by the configuration (--config)
keeps about users, whether or not a server is running. Running
instances see every change at their next sign-in.

Exit codes: 0 success, 1 failure, 2 usage error.`,
		Example: `  signet users reset-mfa alice --config signet.yaml`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("users needs a subcommand: reset-mfa (see signet users --help)")}
		},
	}
	cmd.PersistentFlags().StringVarP(&o.configPath, "config", "c", defaultConfigPath, "the configuration file of the server whose users to manage")
	cmd.AddCommand(newUsersResetMFACmd(e, o))
	return cmd
}
