package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newUsersDisableCmd(e *env, o *usersOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "disable USERNAME",
		Short: "Disable a store user and end their sessions and refresh tokens",
		Long: `disable stops a store user from signing in and, in the same transaction,
revokes their login sessions, refresh tokens and unredeemed authorization
codes. Every instance sharing the store refuses them at its next request
(nothing is cached). Enabling the user again does not bring those back.
Access tokens already issued stay valid until they expire, except at
userinfo, which refuses them at once.`,
		Example: `  signet users disable alice --config signet.yaml`,
		Args:    usersArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				r, err := s.storeUser(ctx, args[0])
				if err != nil {
					return err
				}
				n, err := s.store.DisableUser(ctx, r.Subject, usersNow())
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "disabled %s; ended %d sessions, refresh tokens and codes\n", r.Username, n)
				return err
			})
		},
	}
}
