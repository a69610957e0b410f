package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newUsersSetPasswordCmd(e *env, o *usersOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "set-password USERNAME",
		Short: "Set a store user's password",
		Long: `set-password replaces a store user's password. It is asked for twice on a
terminal (without echo) or read from stdin, and must follow the password
policy (passwords in the configuration). The user's sessions stay.`,
		Example: `  signet users set-password alice --config signet.yaml
  printf '%s' "$PASSWORD" | signet users set-password alice --config signet.yaml`,
		Args: usersArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				r, err := s.storeUser(ctx, args[0])
				if err != nil {
					return err
				}
				pw, err := readNewPassword(e, r.Username)
				if err != nil {
					return err
				}
				if r.PasswordHash, err = s.newHash(pw); err != nil {
					return err
				}
				r.Updated = usersNow()
				if err := s.store.UpdateUser(ctx, r); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "password of %s set\n", r.Username)
				return err
			})
		},
	}
}
