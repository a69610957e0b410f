package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newUsersEnableCmd(e *env, o *usersOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "enable USERNAME",
		Short:   "Enable a disabled store user",
		Long:    `enable lets a disabled store user sign in again. Their old sessions and refresh tokens stay ended.`,
		Example: `  signet users enable alice --config signet.yaml`,
		Args:    usersArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				r, err := s.storeUser(ctx, args[0])
				if err != nil {
					return err
				}
				if err := s.store.EnableUser(ctx, r.Subject, usersNow()); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "enabled %s\n", r.Username)
				return err
			})
		},
	}
}
