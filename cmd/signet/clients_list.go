package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
)

// clientRow is one element of `clients list --json`.
type clientRow struct {
	ClientID   string   `json:"clientId"`
	Source     string   `json:"source"` // "file" or "store"
	AuthMethod string   `json:"tokenEndpointAuthMethod"`
	GrantTypes []string `json:"allowedGrantTypes"`
	Scopes     []string `json:"allowedScopes"`
	// Secrets counts the secrets accepted now (two during a rotation's
	// grace period).
	Secrets int `json:"secrets"`
	// Served is false for a stored client the servers refuse; Problem
	// says why and how to fix it.
	Served    bool       `json:"served"`
	Problem   string     `json:"problem,omitempty"`
	Revision  int64      `json:"revision,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy string     `json:"updatedBy,omitempty"`
}

// authMethod names how a client authenticates, for list.
func authMethod(m string) string {
	if m == "" {
		return config.AuthMethodSecretBasic
	}
	return m
}

func newClientsListCmd(e *env, o *registryOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the clients: the configuration file's, then the store's",
		Long: `list prints every client: those of the configuration file (SOURCE file,
read-only here), then those of the store (SOURCE store) with their revision
and last change. SECRETS counts the secrets accepted now (two during the
grace period of a rotation). STATUS is refused for a stored client that the
servers do not serve (an id the file defines, a scope no API resource has
any more, ...); --json gives the reason in problem.

--json prints an array of objects with clientId, source,
tokenEndpointAuthMethod, allowedGrantTypes, allowedScopes, secrets, served,
problem and, for stored clients, revision, updatedAt and updatedBy.`,
		Example: `  signet clients list --config signet.yaml
  signet clients list --config signet.yaml --json | jq -r '.[] | select(.source == "store") | .clientId'`,
		Args: noArgs,
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
			now := s.now()
			_, refused, _ := recs.Merge(s.cfg, now)
			problems := map[string]string{}
			for _, p := range refused {
				if p.Kind == config.EntryClient {
					problems[p.ID] = p.Err.Error()
				}
			}
			var rows []clientRow
			for _, c := range s.cfg.Clients {
				rows = append(rows, clientRow{ClientID: c.ClientID, Source: "file", AuthMethod: fileAuthMethod(c), GrantTypes: c.AllowedGrantTypes,
					Scopes: c.AllowedScopes, Secrets: len(c.Secrets), Served: true})
			}
			for _, c := range recs.Clients {
				n := 0
				for _, sec := range c.Secrets {
					if sec.ValidAt(now) {
						n++
					}
				}
				at := c.Meta.UpdatedAt
				rows = append(rows, clientRow{ClientID: c.ClientID, Source: "store", AuthMethod: authMethod(c.TokenEndpointAuthMethod), GrantTypes: c.AllowedGrantTypes,
					Scopes: c.AllowedScopes, Secrets: n, Served: problems[c.ClientID] == "", Problem: problems[c.ClientID],
					Revision: c.Meta.Revision, UpdatedAt: &at, UpdatedBy: c.Meta.UpdatedBy})
			}
			if asJSON {
				if rows == nil {
					rows = []clientRow{}
				}
				return printJSON(e.stdout, rows)
			}
			return writeClientsTable(e.stdout, rows)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

// fileAuthMethod names how a client of the file authenticates.
func fileAuthMethod(c config.Client) string {
	switch {
	case c.Public:
		return config.AuthMethodNone
	case c.JWKS != nil || c.JWKSURI != "":
		return config.AuthMethodPrivateKeyJWT
	}
	return authMethod(c.TokenEndpointAuthMethod)
}

func writeClientsTable(w io.Writer, rows []clientRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tSOURCE\tAUTH\tGRANT TYPES\tSCOPES\tSECRETS\tSTATUS\tREVISION\tUPDATED")
	for _, r := range rows {
		status, rev, updated := "served", "-", "-"
		if !r.Served {
			status = "refused"
		}
		if r.Source == "store" {
			rev = strconv.FormatInt(r.Revision, 10)
			updated = stamp(*r.UpdatedAt) + " by " + r.UpdatedBy
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ClientID, r.Source, r.AuthMethod, joinOr(r.GrantTypes), joinOr(r.Scopes), r.Secrets, status, rev, updated)
	}
	return tw.Flush()
}
