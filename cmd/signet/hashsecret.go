package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientauth"
)

// minGeneratedSecret is the length under which hash-secret warns about a
// sha256: secret: 32 characters (43 for the 32 random bytes --generate
// makes). A sha256: hash of a short secret can be brute-forced from a
// leaked configuration; argon2id is for secrets people choose.
const minGeneratedSecret = 32

// minChosenSecret is the length under which hash-secret --argon2id warns.
const minChosenSecret = 12

func newHashSecretCmd(e *env) *cobra.Command {
	var argon, generate bool
	cmd := &cobra.Command{
		Use:   "hash-secret",
		Short: "Hash a client secret, or generate one, for clients[].secrets",
		Long: `hash-secret reads a client secret from stdin (one trailing newline is
ignored) and prints the value to put in clients[].secrets:

  sha256:<hex>          the default, for generated high-entropy secrets
  $argon2id$v=19$...    with --argon2id, for secrets a person chose

With --generate it reads nothing: it prints a new secret (32 random bytes,
base64url, so it needs no escaping in HTTP Basic credentials, forms or
URLs) on the first line, for the client, and its hash on the second, for
clients[].secrets.

It warns on stderr about a secret shorter than 32 characters (12 with
--argon2id): a sha256: hash of a short secret can be guessed from a leaked
configuration.`,
		Example: `  signet hash-secret --generate
  signet hash-secret --generate | { read -r secret; read -r hash; echo "$secret" > billing.secret; echo "$hash"; }
  printf '%s' 'a passphrase someone chose' | signet hash-secret --argon2id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s string
			var err error
			if generate {
				if s, err = clientauth.GenerateSecret(nil); err != nil {
					return err
				}
			} else if s, err = readStdinValue(e, "secret", "signet hash-secret --generate, or printf '%s' \"$SECRET\" | signet hash-secret"); err != nil {
				return err
			}
			switch n := len(s); {
			case argon && n < minChosenSecret:
				fmt.Fprintf(e.stderr, "warning: the secret is %d characters; one a person chose should have at least %d, or use signet hash-secret --generate\n", n, minChosenSecret)
			case !argon && n < minGeneratedSecret:
				fmt.Fprintf(e.stderr, "warning: the secret is %d characters; a sha256: hash of a short secret can be guessed from a leaked configuration: use signet hash-secret --generate (or --argon2id for a secret a person chose)\n", n)
			}
			out := clientauth.HashSHA256(s)
			if argon {
				if out, err = clientauth.HashArgon2id(s, nil); err != nil {
					return err
				}
			}
			if generate {
				_, err = fmt.Fprintf(e.stdout, "%s\n%s\n", s, out)
				return err
			}
			_, err = fmt.Fprintln(e.stdout, out)
			return err
		},
	}
	cmd.Flags().BoolVar(&argon, "argon2id", false, "print an argon2id PHC string (slow to check; for human-chosen secrets)")
	cmd.Flags().BoolVar(&generate, "generate", false, "generate a new secret: print it (first line) and its hash (second line)")
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
