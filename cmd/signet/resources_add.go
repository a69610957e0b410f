package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

func newResourcesAddCmd(e *env, o *registryOptions) *cobra.Command {
	var (
		f      resourceFlags
		name   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add an API resource to the store",
		Long: `add stores a new API resource: its name (the audience of tokens for it) and
its scopes, as an apiResources[] entry of the configuration file, checked by
the same rules. To let it introspect tokens, give it a secret
(--generate-secret prints one once; --secret-hash stores yours) or its keys
(--jwks-uri, --jwks-file) for private_key_jwt.

--json prints {"resource": {...}, "secret": "..."}.`,
		Example: `  signet resources add --config signet.yaml --name orders --scope orders.read,orders.write
  signet resources add --config signet.yaml --name https://api.example.com/stock --scope stock.read --generate-secret`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError{errors.New("add needs --name: the API's name, the audience of its tokens (e.g. orders or https://api.example.com/orders)")}
			}
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			r := clientreg.Resource{Name: name}
			secret, err := f.apply(cmd, &r, s)
			if err != nil {
				return err
			}
			if err := r.Validate(); err != nil {
				return fmt.Errorf("API resource %s: %w", name, err)
			}
			ctx := cmd.Context()
			if _, err := s.reg.Resource(ctx, name); errors.Is(err, clientreg.ErrReserved) {
				return err
			}
			if err := s.check(ctx, config.EntryAPIResource, name, signet.PutResource(r)); err != nil {
				return err
			}
			created, err := s.reg.CreateResource(ctx, r, s.change(""))
			if err != nil {
				return registryError(err, "API resource", name, "resources")
			}
			return printResourceChange(e, "added", created, secret, asJSON)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the API's name, the audience of its tokens (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	f.register(cmd, false)
	recordFlagsCLIOnly(cmd)
	return cmd
}

// printResourceChange reports an added or updated resource.
func printResourceChange(e *env, verb string, r clientreg.Resource, secret string, asJSON bool) error {
	if asJSON {
		if secret != "" {
			secretOnce(e, "introspection secret")
		}
		return printJSON(e.stdout, addedResource{Resource: clientreg.Redact(r), Secret: secret})
	}
	fmt.Fprintf(e.stdout, "%s API resource %s (revision %d)\n", verb, r.Name, r.Meta.Revision)
	if secret != "" {
		fmt.Fprintf(e.stdout, "secret: %s\n", secret)
		secretOnce(e, "introspection secret")
	}
	return nil
}
