package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"

	"github.com/signet-id/signet/config"
)

func newResourcesUpdateCmd(e *env, o *registryOptions) *cobra.Command {
	var (
		f      resourceFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a stored API resource",
		Long: `update changes what its flags give and keeps the rest; --scope replaces the
whole list. A change that takes away a scope a client uses is refused,
naming the client. The change is made only if nobody changed the resource
since this command read it (or since --if-revision).`,
		Example: `  signet resources update --config signet.yaml orders --scope orders.read,orders.write,orders.admin`,
		Args:    exactlyOneID("API resource name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !changesSomething(cmd) {
				return usageError{errors.New("update needs a flag for what to change (see signet resources update --help)")}
			}
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			ctx := cmd.Context()
			r, err := s.reg.Resource(ctx, name)
			if err != nil {
				return registryError(err, "API resource", name, "resources")
			}
			read := r.Meta.Revision
			secret, err := f.apply(cmd, &r, s)
			if err != nil {
				return err
			}
			if err := r.Validate(); err != nil {
				return fmt.Errorf("API resource %s: %w", name, err)
			}
			if err := s.check(ctx, config.EntryAPIResource, name, signet.PutResource(r)); err != nil {
				return err
			}
			updated, err := s.reg.UpdateResource(ctx, r, ifRevision(f.ifRevision, read), s.change(""))
			if err != nil {
				return registryError(err, "API resource", name, "resources")
			}
			return printResourceChange(e, "updated", updated, secret, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	f.register(cmd, true)
	recordFlagsCLIOnly(cmd)
	return cmd
}
