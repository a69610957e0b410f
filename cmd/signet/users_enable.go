package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/userstore"
)

func newUsersEnableCmd(e *env, o *usersOptions) *cobra.Command {
	return storeUserCmd(e, o, &cobra.Command{
		Use:     "enable USERNAME",
		Short:   "Enable a disabled store user",
		Long:    `enable lets a disabled store user sign in again. Their old sessions and refresh tokens stay ended.`,
		Example: `  signet users enable alice --config signet.yaml`,
	}, func(ctx context.Context, s *usersSession, r userstore.Record) (string, error) {
		return "enabled " + r.Username, s.store.EnableUser(ctx, r.Subject, usersNow())
	})
}
