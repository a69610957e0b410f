package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/userstore"
)

func newUsersDeleteCmd(e *env, o *usersOptions) *cobra.Command {
	var yes bool
	cmd := storeUserCmd(e, o, &cobra.Command{
		Use:   "delete USERNAME",
		Short: "Delete a store user and end their sessions and refresh tokens",
		Long: `delete removes a store user and, in the same transaction, revokes their
login sessions, refresh tokens and unredeemed codes, as disable does. It
asks for confirmation on the terminal; --yes skips the question (needed
without a terminal).`,
		Example: `  signet users delete alice --config signet.yaml --yes`,
	}, func(ctx context.Context, s *usersSession, r userstore.Record) (string, error) {
		if !yes {
			if err := confirm(e, fmt.Sprintf("Delete user %s (subject %s)? Their sessions and refresh tokens end.", r.Username, r.Subject),
				"delete asks for confirmation, but stdin is not a terminal; pass --yes to delete "+r.Username+" without asking",
				"delete of "+r.Username); err != nil {
				return "", err
			}
		}
		n, err := s.store.DeleteUser(ctx, r.Subject, usersNow())
		return fmt.Sprintf("deleted %s; ended %d sessions, refresh tokens and codes", r.Username, n), err
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking for confirmation")
	markCLIOnly(cmd, "yes")
	return cmd
}
