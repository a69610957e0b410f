package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/userstore"
)

func newUsersAddCmd(e *env, o *usersOptions) *cobra.Command {
	var (
		subject  string
		claims   []string
		disabled bool
	)
	cmd := &cobra.Command{
		Use:   "add USERNAME",
		Short: "Add a user to the store, with a password and claims",
		Long: `add creates a store user. The password is asked for twice on a terminal
(without echo) or read from stdin, and must follow the password policy.

--subject sets the stable sub of the user's tokens (default: a random
UUID). --claim name=value sets a claim, repeatable: the value is JSON when
it parses as JSON (true, 42, ["a","b"], {"country":"US"}), else the text.
The standard claims are checked for their type (email_verified and
phone_number_verified true or false, address an object, groups a list);
other names are custom claims, released with the profile scope.`,
		Example: `  printf '%s' "$PASSWORD" | signet users add alice --config signet.yaml \
      --claim name='Alice Liddell' --claim email=alice@example.com --claim email_verified=true \
      --claim 'groups=["staff"]' --claim 'address={"locality":"Oxford","country":"UK"}'`,
		Args: usersArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			username := args[0]
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				c, err := parseClaimFlags(nil, claims, nil)
				if err != nil {
					return err
				}
				sub := subject
				if sub == "" {
					if sub, err = newSubject(); err != nil {
						return err
					}
				}
				if err := s.checkNew(username, sub); err != nil {
					return err
				}
				if _, err := s.store.UserByName(ctx, username); err == nil {
					return fmt.Errorf("a store user %q exists; change it with signet users update or set-password", username)
				}
				t := usersNow()
				// Checked before the password is asked for (with a
				// stand-in hash of the right form).
				r := userstore.Record{Subject: sub, Username: username, PasswordHash: standInHash, Claims: c, Disabled: disabled, Created: t, Updated: t}
				if err := r.Validate(); err != nil {
					return usageError{err}
				}
				pw, err := readNewPassword(e, username)
				if err != nil {
					return err
				}
				if r.PasswordHash, err = s.newHash(pw); err != nil {
					return err
				}
				err = s.store.CreateUser(ctx, r)
				if errors.Is(err, userstore.ErrExists) {
					return fmt.Errorf("the username %q or the subject %q is taken by a store user; nothing changed", username, sub)
				}
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "added %s (subject %s)\n", username, sub)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&subject, "subject", "", "the user's stable subject (sub); default a random UUID")
	f.StringArrayVar(&claims, "claim", nil, "a claim as name=value (repeatable; the value is JSON or text)")
	f.BoolVar(&disabled, "disabled", false, "add the user disabled (enable later with signet users enable)")
	// A user's own data: a variable left in the environment would give
	// every later user the same subject or claims.
	for _, name := range []string{"subject", "claim", "disabled"} {
		markCLIOnly(cmd, name)
	}
	return cmd
}

// standInHash is an argon2id PHC string of the right form, to validate a
// record before its password is known.
const standInHash = "$argon2id$v=19$m=8,t=1,p=1$c3RhbmQtaW4tc2FsdA$c3RhbmQtaW4taGFzaC1zdGFuZC1pbi1oYXNoLTAxMg"

// usersArg takes exactly one USERNAME.
func usersArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%s takes one USERNAME (see %s --help)", cmd.CommandPath(), cmd.CommandPath())}
	}
	return nil
}
