package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

func newClientsRotateSecretCmd(e *env, o *registryOptions) *cobra.Command {
	var (
		grace  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Give a stored client a new secret; the old one stays valid for a grace period",
		Long: `rotate-secret generates a new secret for a stored client and prints it once
(client_secret: ...). The secrets it had stay valid until the grace period
(--grace, default 24h) ends, so the client can switch without downtime: two
secrets are valid meanwhile. Running instances stop accepting the old
secrets at that time on their own, without a reload. --grace 0 stops them
at once. Secrets already expired are dropped.

--json prints {"client": {...}, "clientSecret": "..."}.`,
		Example: `  signet clients rotate-secret --config signet.yaml billing
  signet clients rotate-secret --config signet.yaml billing --grace 1h --json`,
		Args: exactlyOneID("client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			g, err := config.ParseDuration(grace)
			if err != nil {
				return usageError{fmt.Errorf("--grace: %w", err)}
			}
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			ctx := cmd.Context()
			c, err := s.reg.Client(ctx, id)
			if err != nil {
				return registryError(err, "client", id, "clients")
			}
			if !usesSecret(&c) {
				return fmt.Errorf("client %s authenticates with %s, not a secret; nothing to rotate (its keys change at its jwksUri or with update --jwks-file)", id, c.TokenEndpointAuthMethod)
			}
			now := s.now().UTC()
			secret, sec, err := newSecret(now)
			if err != nil {
				return err
			}
			c.Secrets = clientreg.Rotate(c.Secrets, sec, now, g)
			updated, err := s.reg.UpdateClient(ctx, c, c.Meta.Revision, s.change(clientreg.ActionRotateSecret))
			if err != nil {
				return registryError(err, "client", id, "clients")
			}
			if asJSON {
				secretOnce(e, "new client secret")
				return printJSON(e.stdout, addedSecret{Client: clientreg.Redact(updated), ClientSecret: secret})
			}
			fmt.Fprintf(e.stdout, "rotated the secret of client %s (revision %d)\n", id, updated.Meta.Revision)
			fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
			if len(c.Secrets) > 1 {
				fmt.Fprintf(e.stdout, "the previous secret stays valid until %s\n", stamp(now.Add(g)))
			}
			secretOnce(e, "new client secret")
			return nil
		},
	}
	cmd.Flags().StringVar(&grace, "grace", strings.TrimSuffix(clientreg.DefaultRotationGrace.String(), "0m0s"), "how long the old secrets stay valid, e.g. 1h or 7d; 0 stops them at once")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	recordFlagsCLIOnly(cmd)
	return cmd
}
