package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

func newClientsUpdateCmd(e *env, o *registryOptions) *cobra.Command {
	var (
		f      clientFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID",
		Short: "Change a stored client's settings",
		Long: `update changes the settings whose flags are given and keeps the others; a
list flag (--scope, --grant-type, --redirect-uri, ...) replaces the whole
list, and an empty value (--scope "") empties it. The result is checked by
the rules of the configuration file.

The change is made only if nobody changed the client since this command
read it (or since --if-revision, the revision show printed); otherwise it
fails and changes nothing.

Secrets change with rotate-secret. --secret-hash replaces every secret at
once, with no grace period. A client switched to a secret method with no
secret gets a new one, printed once.`,
		Example: `  signet clients update --config signet.yaml billing --scope orders.read,orders.write
  signet clients update --config signet.yaml billing --access-token-lifetime 5m --if-revision 42`,
		Args: exactlyOneID("client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if !changesSomething(cmd) {
				return usageError{errors.New("update needs a flag for what to change (see signet clients update --help)")}
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
			read := c.Meta.Revision
			if err := f.apply(cmd, &c); err != nil {
				return err
			}
			secret := ""
			switch {
			case f.secretHash != "" && !usesSecret(&c):
				return usageError{fmt.Errorf("--secret-hash: a client with tokenEndpointAuthMethod %s has no secret; leave it out", c.TokenEndpointAuthMethod)}
			case f.secretHash != "":
				c.Secrets = []clientreg.Secret{{Hash: f.secretHash, CreatedAt: s.now().UTC()}}
			case usesSecret(&c) && !hasValidSecret(c.Secrets, s):
				var sec clientreg.Secret
				if secret, sec, err = newSecret(s.now()); err != nil {
					return err
				}
				c.Secrets = []clientreg.Secret{sec}
			}
			if err := c.Validate(); err != nil {
				return fmt.Errorf("client %s: %w", id, err)
			}
			if err := s.check(ctx, config.EntryClient, id, signet.PutClient(c)); err != nil {
				return err
			}
			updated, err := s.reg.UpdateClient(ctx, c, ifRevision(f.ifRevision, read), s.change(""))
			if err != nil {
				return registryError(err, "client", id, "clients")
			}
			if asJSON {
				if secret != "" {
					secretOnce(e, "client secret")
				}
				return printJSON(e.stdout, addedSecret{Client: clientreg.Redact(updated), ClientSecret: secret})
			}
			fmt.Fprintf(e.stdout, "updated client %s (revision %d)\n", id, updated.Meta.Revision)
			if secret != "" {
				fmt.Fprintf(e.stdout, "client_secret: %s\n", secret)
				secretOnce(e, "client secret")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	f.register(cmd, true)
	recordFlagsCLIOnly(cmd)
	return cmd
}

// hasValidSecret reports whether a secret of list is accepted now.
func hasValidSecret(list []clientreg.Secret, s *registrySession) bool {
	now := s.now()
	for _, sec := range list {
		if sec.ValidAt(now) {
			return true
		}
	}
	return false
}
