package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/userstore"
)

func newUsersUpdateCmd(e *env, o *usersOptions) *cobra.Command {
	var (
		rename       string
		claims, drop []string
	)
	cmd := storeUserCmd(e, o, &cobra.Command{
		Use:   "update USERNAME",
		Short: "Change a store user's username or claims",
		Long: `update changes a store user: --username renames them (the subject, and so
their tokens' sub, stays), --claim name=value sets a claim (as with add),
--unset-claim name removes one. Passwords change with set-password,
status with disable and enable.`,
		Example: `  signet users update alice --config signet.yaml --claim email=alice@new.example.com --unset-claim phone_number
  signet users update alice --config signet.yaml --username alice.liddell`,
	}, func(ctx context.Context, s *usersSession, r userstore.Record) (string, error) {
		if rename == "" && len(claims) == 0 && len(drop) == 0 {
			return "", usageError{errors.New("update changes nothing without --username, --claim or --unset-claim")}
		}
		var err error
		if r.Claims, err = parseClaimFlags(r.Claims, claims, drop); err != nil {
			return "", err
		}
		if rename != "" && rename != r.Username {
			if err := s.checkNew(rename, r.Subject); err != nil {
				return "", err
			}
			r.Username = rename
		}
		r.Updated = usersNow()
		if err := r.Validate(); err != nil {
			return "", usageError{err}
		}
		err = s.store.UpdateUser(ctx, r)
		if errors.Is(err, userstore.ErrExists) {
			return "", fmt.Errorf("the username %q is another store user's; nothing changed", r.Username)
		}
		return fmt.Sprintf("updated %s (subject %s)", r.Username, r.Subject), err
	})
	f := cmd.Flags()
	f.StringVar(&rename, "username", "", "rename the user (the subject stays)")
	f.StringArrayVar(&claims, "claim", nil, "set a claim as name=value (repeatable; the value is JSON or text)")
	f.StringArrayVar(&drop, "unset-claim", nil, "remove a claim (repeatable)")
	for _, name := range []string{"username", "claim", "unset-claim"} {
		markCLIOnly(cmd, name) // a user's own data
	}
	return cmd
}
