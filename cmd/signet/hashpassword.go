package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientauth"
)

func newHashPasswordCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "hash-password",
		Short: "Hash a user's password, for users[].passwordHash",
		Long: `hash-password prints the argon2id PHC string ($argon2id$v=19$m=65536,t=3,p=4$...)
of a password, to put in users[].passwordHash. The password itself is
never printed.

On a terminal it asks for the password twice, without echoing it.
Otherwise it reads the password from stdin (one trailing newline is
ignored).`,
		Example: `  signet hash-password
  printf '%s' "$PASSWORD" | signet hash-password
  signet hash-password < password.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := readPassword(e)
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

// readPassword asks for the password twice without echo when stdin is a
// terminal, and reads it from stdin otherwise.
func readPassword(e *env) (string, error) {
	if e.isTerminal == nil || !e.isTerminal() || e.readSecret == nil {
		return readStdinValue(e, "password", `printf '%s' "$PASSWORD" | signet hash-password`)
	}
	first, err := e.readSecret("Password: ")
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if first == "" {
		return "", errors.New("the password is empty; type one, or pipe it in: printf '%s' \"$PASSWORD\" | signet hash-password")
	}
	again, err := e.readSecret("Repeat the password: ")
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if again != first {
		return "", errors.New("the two passwords differ; run signet hash-password again")
	}
	return first, nil
}
