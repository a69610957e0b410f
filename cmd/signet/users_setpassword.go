package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/userstore"
)

func newUsersSetPasswordCmd(e *env, o *usersOptions) *cobra.Command {
	return storeUserCmd(e, o, &cobra.Command{
		Use:   "set-password USERNAME",
		Short: "Set a store user's password",
		Long: `set-password replaces a store user's password. It is asked for twice on a
terminal (without echo) or read from stdin, and must follow the password
policy (passwords in the configuration). The user's sessions stay.`,
		Example: `  signet users set-password alice --config signet.yaml
  printf '%s' "$PASSWORD" | signet users set-password alice --config signet.yaml`,
	}, func(ctx context.Context, s *usersSession, r userstore.Record) (string, error) {
		pw, err := readNewPassword(e, r.Username)
		if err != nil {
			return "", err
		}
		if r.PasswordHash, err = s.newHash(pw); err != nil {
			return "", err
		}
		r.Updated = usersNow()
		return "password of " + r.Username + " set", s.store.UpdateUser(ctx, r)
	})
}
