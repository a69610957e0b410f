package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"
)

// emptyJWKS is the JWK set without keys, which export-jwks never prints.
var emptyJWKS = []byte(`{"keys":[]}`)

func newKeysExportJWKSCmd(e *env, o *keysOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export-jwks",
		Short: "Print the public JWKS exactly as the server publishes it",
		Long: `export-jwks prints the JWK set the server publishes at
/.well-known/openid-configuration/jwks, byte for byte, computed from the
store and the configuration: the signingCredential, every published managed
key (announced, signing, retired within retention) and every validation
key. Private key material is never printed.

Use it to pin keys in a relying party that cannot fetch the JWKS, or to check
what a server will publish before starting it.

Exit code 1 when a stored key cannot be opened with the configured secrets
or a configured algorithm has no key that can sign (what can be published
is printed first); an empty set is never printed.`,
		Example: `  signet keys export-jwks --config signet.yaml > jwks.json
  signet keys export-jwks --config signet.yaml | jq -r '.keys[].kid'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openKeys(cmd.Context(), o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			warnUnreadable(e, s.m.Keys())
			trouble := keysTrouble(s)
			body := s.m.JWKS().Body
			if bytes.Equal(body, emptyJWKS) {
				// Never an empty set that looks like an answer.
				if trouble == nil {
					trouble = fmt.Errorf("no key is published; %s configures no signing credential and the store holds no published key", s.cfg.Source)
				}
				return fmt.Errorf("nothing printed: %w", trouble)
			}
			if _, err := e.stdout.Write(body); err != nil {
				return err
			}
			return trouble
		},
	}
}
