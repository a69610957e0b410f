package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

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
what a server will publish before starting it.`,
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
			if err := s.m.Ready(); err != nil {
				fmt.Fprintf(e.stderr, "warning: %s\n", oneLine(err.Error()))
			}
			_, err = e.stdout.Write(s.m.JWKS().Body)
			return err
		},
	}
}
