package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
)

// resourceRow is one element of `resources list --json`.
type resourceRow struct {
	Name        string     `json:"name"`
	Source      string     `json:"source"` // "file" or "store"
	Scopes      []string   `json:"scopes"`
	Introspects string     `json:"introspection"` // "secret", "private_key_jwt" or "no"
	Served      bool       `json:"served"`
	Problem     string     `json:"problem,omitempty"`
	Revision    int64      `json:"revision,omitempty"`
	UpdatedAt   *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy   string     `json:"updatedBy,omitempty"`
}

func introspection(secrets int, keys bool) string {
	switch {
	case keys:
		return "private_key_jwt"
	case secrets > 0:
		return "secret"
	}
	return "no"
}

func newResourcesListCmd(e *env, o *registryOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the API resources: the configuration file's, then the store's",
		Long: `list prints every API resource: those of the configuration file (SOURCE
file), then those of the store (SOURCE store) with their revision and last
change. INTROSPECTION is how the API authenticates at the introspection
endpoint (secret, private_key_jwt, or no). STATUS is refused for a stored
resource the servers do not serve; --json gives the reason in problem.

--json prints an array of objects with name, source, scopes, introspection,
served, problem and, for stored resources, revision, updatedAt and
updatedBy.`,
		Example: `  signet resources list --config signet.yaml --json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			recs, err := signet.ReadRegistry(cmd.Context(), s.reg)
			if err != nil {
				return fmt.Errorf("read the client registry: %w", err)
			}
			_, refused, _ := recs.Merge(s.cfg, s.now())
			problems := map[string]string{}
			for _, p := range refused {
				if p.Kind == config.EntryAPIResource {
					problems[p.ID] = p.Err.Error()
				}
			}
			rows := []resourceRow{}
			for _, r := range s.cfg.APIResources {
				rows = append(rows, resourceRow{Name: r.Name, Source: "file", Scopes: r.Scopes, Introspects: introspection(len(r.Secrets), r.JWKS != nil || r.JWKSURI != ""), Served: true})
			}
			for _, r := range recs.Resources {
				at := r.Meta.UpdatedAt
				rows = append(rows, resourceRow{Name: r.Name, Source: "store", Scopes: r.Scopes, Introspects: introspection(len(r.Secrets), len(r.JWKS) > 0 || r.JWKSURI != ""),
					Served: problems[r.Name] == "", Problem: problems[r.Name], Revision: r.Meta.Revision, UpdatedAt: &at, UpdatedBy: r.Meta.UpdatedBy})
			}
			if asJSON {
				return printJSON(e.stdout, rows)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSOURCE\tSCOPES\tINTROSPECTION\tSTATUS\tREVISION\tUPDATED")
			for _, r := range rows {
				status, rev, updated := "served", "-", "-"
				if !r.Served {
					status = "refused"
				}
				if r.Source == "store" {
					rev, updated = strconv.FormatInt(r.Revision, 10), stamp(*r.UpdatedAt)+" by "+r.UpdatedBy
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Source, joinOr(r.Scopes), r.Introspects, status, rev, updated)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}
