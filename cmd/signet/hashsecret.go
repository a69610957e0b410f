package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientauth"
)

func newHashSecretCmd(e *env) *cobra.Command {
	var argon bool
	cmd := &cobra.Command{
		Use:   "hash-secret",
		Short: "Hash a client secret read from stdin, for clients[].secrets",
		Long: `hash-secret reads a client secret from stdin (one trailing newline is
ignored) and prints the value to put in clients[].secrets:

  sha256:<hex>          the default, for generated high-entropy secrets
  $argon2id$v=19$...    with --argon2id, for secrets a person chose`,
		Example: `  openssl rand -base64 32 | tee billing.secret | signet hash-secret
  printf '%s' 'a passphrase someone chose' | signet hash-secret --argon2id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := readStdinValue(e, "secret", "openssl rand -base64 32 | signet hash-secret")
			if err != nil {
				return err
			}
			out := clientauth.HashSHA256(s)
			if argon {
				if out, err = clientauth.HashArgon2id(s, nil); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintln(e.stdout, out)
			return err
		},
	}
	cmd.Flags().BoolVar(&argon, "argon2id", false, "print an argon2id PHC string (slow to check; for human-chosen secrets)")
	return cmd
}

// readStdinValue reads what hash-secret and hash-password hash: all of
// stdin (at most 1 MiB) without one trailing newline (\n or \r\n). what
// names it in errors; example shows how to pipe one in.
func readStdinValue(e *env, what, example string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read the %s from stdin: %w", what, err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("no %s on stdin; pipe one in, e.g. %s", what, example)
	}
	return s, nil
}
