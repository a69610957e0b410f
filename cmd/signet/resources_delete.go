package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"

	"github.com/signet-id/signet/config"
)

func newResourcesDeleteCmd(e *env, o *registryOptions) *cobra.Command {
	var rev int64
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stored API resource",
		Long: `delete removes a stored API resource. It is refused while a client uses one
of its scopes, naming the client: change or delete the client first. With
--if-revision it deletes only that revision.`,
		Example: `  signet resources delete --config signet.yaml orders`,
		Args:    exactlyOneID("API resource name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			ctx := cmd.Context()
			if err := s.check(ctx, config.EntryAPIResource, name, signet.RemoveResource(name)); err != nil {
				return err
			}
			if err := s.reg.DeleteResource(ctx, name, rev, s.change("")); err != nil {
				return registryError(err, "API resource", name, "resources")
			}
			_, err = fmt.Fprintf(e.stdout, "deleted API resource %s\n", name)
			return err
		},
	}
	cmd.Flags().Int64Var(&rev, "if-revision", 0, "delete the API resource only if it is still at this revision (see show)")
	recordFlagsCLIOnly(cmd)
	return cmd
}
