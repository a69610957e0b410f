package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newResourcesShowCmd(e *env, o *registryOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a stored API resource, without its secrets",
		Long: `show prints a stored API resource and its revision (for update
--if-revision); secrets show only when they were created, never the hash.
--json prints the record as the admin API does.`,
		Example: `  signet resources show --config signet.yaml orders`,
		Args:    exactlyOneID("API resource name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			r, err := s.reg.Resource(cmd.Context(), args[0])
			if err != nil {
				return registryError(err, "API resource", args[0], "resources")
			}
			if asJSON {
				return printRecord(e.stdout, r)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(tw, "%s\t%s\n", k, v)
				}
			}
			row("name", r.Name)
			row("scopes", strings.Join(r.Scopes, " "))
			row("allowedAccessTokenSigningAlgorithms", strings.Join(r.AllowedAccessTokenSigningAlgorithms, " "))
			row("jwksUri", r.JWKSURI)
			if len(r.JWKS) > 0 {
				row("jwks", "inline")
			}
			for i, sec := range r.Secrets {
				row(fmt.Sprintf("secrets[%d]", i), "created "+stamp(sec.CreatedAt))
			}
			row("revision", fmt.Sprint(r.Meta.Revision))
			row("created", stamp(r.Meta.CreatedAt)+" by "+r.Meta.CreatedBy)
			row("updated", stamp(r.Meta.UpdatedAt)+" by "+r.Meta.UpdatedBy)
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}
