package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// userJSON is one user as list and show print it with --json.
type userJSON struct {
	Username string         `json:"username"`
	Subject  string         `json:"subject"`
	Source   string         `json:"source"` // "store" or "config"
	Disabled bool           `json:"disabled"`
	Password string         `json:"password,omitempty"` // the hash's algorithm and parameters, never the hash
	Created  string         `json:"created,omitempty"`
	Updated  string         `json:"updated,omitempty"`
	Claims   map[string]any `json:"claims"`
}

func newUsersListCmd(e *env, o *usersOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the users: the store's and the configuration's",
		Long: `list prints every user by username: the store's (source store, with
their status) and the configuration's (source config, read-only here).

--json prints an array of objects with username, subject, source,
disabled, password (the hash's algorithm and parameters), created,
updated (store users) and claims.`,
		Example: `  signet users list --config signet.yaml
  signet users list --config signet.yaml --json | jq -r '.[] | select(.disabled) | .username'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				all, err := s.allUsers(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(e, all)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tSUBJECT\tSOURCE\tSTATUS")
				for _, u := range all {
					status := "active"
					if u.Disabled {
						status = "disabled"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Username, u.Subject, u.Source, status)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// allUsers returns the store's and the configuration's users by username.
func (s *usersSession) allUsers(ctx context.Context) ([]userJSON, error) {
	recs, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]userJSON, 0, len(recs)+len(s.cfg.Users))
	for _, r := range recs {
		out = append(out, userJSON{Username: r.Username, Subject: r.Subject, Source: "store", Disabled: r.Disabled,
			Password: hashInfo(r.PasswordHash), Created: stamp(r.Created), Updated: stamp(r.Updated), Claims: nonNil(r.Claims)})
	}
	for _, u := range s.cfg.Users {
		out = append(out, userJSON{Username: u.Username, Subject: u.Subject, Source: "config", Claims: nonNil(u.Claims)})
	}
	slices.SortStableFunc(out, func(a, b userJSON) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// writeJSON prints v as indented JSON.
func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
