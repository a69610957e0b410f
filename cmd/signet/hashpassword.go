package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientauth"
)

func newHashPasswordCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "hash-password",
		Short: "Hash a user's password read from stdin, for users[].passwordHash",
		Long: `hash-password reads a password from stdin (one trailing newline is
ignored) and prints its argon2id PHC string ($argon2id$v=19$m=65536,t=3,p=4$...)
to put in users[].passwordHash. The password itself is never printed.`,
		Example: `  printf '%s' "$PASSWORD" | signet hash-password
  signet hash-password < password.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := readStdinValue(e, "password", `printf '%s' "$PASSWORD" | signet hash-password`)
			if err != nil {
				return err
			}
			out, err := clientauth.HashArgon2id(s, nil)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, out)
			return err
		},
	}
}
