package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/userstore"
)

func newUsersDisableCmd(e *env, o *usersOptions) *cobra.Command {
	return storeUserCmd(e, o, &cobra.Command{
		Use:   "disable USERNAME",
		Short: "Disable a store user and end their sessions and refresh tokens",
		Long: `disable stops a store user from signing in and, in the same transaction,
revokes their login sessions, refresh tokens and unredeemed authorization
codes. Every instance sharing the store refuses them at its next request
(nothing is cached). Enabling the user again does not bring those back.
Access tokens already issued stay valid until they expire, except at
userinfo, which refuses them at once.`,
		Example: `  signet users disable alice --config signet.yaml`,
	}, func(ctx context.Context, s *usersSession, r userstore.Record) (string, error) {
		n, err := s.store.DisableUser(ctx, r.Subject, usersNow())
		return fmt.Sprintf("disabled %s; ended %d sessions, refresh tokens and codes", r.Username, n), err
	})
}
