package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

func newClientsAddCmd(e *env, o *registryOptions) *cobra.Command {
	var (
		f      clientFlags
		id     string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a client to the store; a new secret is printed once",
		Long: `add stores a new client. The flags are the keys of a clients[] entry of the
configuration file (docs/configuration.md), checked by the same rules.

A client that authenticates with a secret (the default, or
--token-endpoint-auth-method client_secret_basic/client_secret_post) gets a
newly generated secret, printed once (client_secret: ...); the store keeps
only its hash. --secret-hash stores a hash you made with signet hash-secret
instead. A public client (--public) and a private_key_jwt client
(--jwks-uri or --jwks-file) have no secret.

--json prints {"client": {...}, "clientSecret": "..."}, the client without
secrets or hashes.`,
		Example: `  signet clients add --config signet.yaml --id billing --grant-type client_credentials --scope orders.read
  signet clients add --config signet.yaml --id spa --public --grant-type authorization_code --scope openid --redirect-uri https://app.example.com/callback
  signet clients add --config signet.yaml --id bank --token-endpoint-auth-method private_key_jwt --jwks-uri https://bank.example.com/jwks.json --grant-type client_credentials`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return usageError{errors.New("add needs --id: the client_id the client will send (printable ASCII)")}
			}
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			c := clientreg.Client{ClientID: id}
			if err := f.apply(cmd, &c); err != nil {
				return err
			}
			secret := ""
			switch {
			case f.secretHash != "" && !usesSecret(&c):
				return usageError{fmt.Errorf("--secret-hash: a client with tokenEndpointAuthMethod %s has no secret; leave it out", c.TokenEndpointAuthMethod)}
			case f.secretHash != "":
				c.Secrets = []clientreg.Secret{{Hash: f.secretHash, CreatedAt: s.now().UTC()}}
			case usesSecret(&c):
				var sec clientreg.Secret
				if secret, sec, err = newSecret(s.now()); err != nil {
					return err
				}
				c.Secrets = []clientreg.Secret{sec}
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("client %s: %w", id, err)
			}
			ctx := cmd.Context()
			if _, err := s.reg.Client(ctx, id); errors.Is(err, clientreg.ErrReserved) {
				return err
			}
			if err := s.check(ctx, config.EntryClient, id, signet.PutClient(c)); err != nil {
				return err
			}
			created, err := s.reg.CreateClient(ctx, c, s.change(""))
			if err != nil {
				return registryError(err, "client", id, "clients")
			}
			if asJSON {
				if secret != "" {
					secretOnce(e, "client secret")
				}
				return printJSON(e.stdout, addedSecret{Client: clientreg.Redact(created), ClientSecret: secret})
			}
			fmt.Fprintf(e.stdout, "added client %s (revision %d)\n", id, created.Meta.Revision)
			if secret != "" {
				fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
				secretOnce(e, "client secret")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the client_id (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	f.register(cmd, false)
	recordFlagsCLIOnly(cmd)
	return cmd
}
