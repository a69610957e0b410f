package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
)

func newUsersShowCmd(e *env, o *usersOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show USERNAME",
		Short: "Show one user: subject, status, password hash kind and claims",
		Long: `show prints a user of the store or of the configuration: subject, source,
status, the kind and parameters of the password hash (never the hash) and
the claims. --json prints the object list --json prints for it.`,
		Example: `  signet users show alice --config signet.yaml`,
		Args:    usersArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
				all, err := s.allUsers(ctx)
				if err != nil {
					return err
				}
				for _, u := range all {
					if u.Username != args[0] {
						continue
					}
					if asJSON {
						return writeJSON(e, u)
					}
					status := "active"
					if u.Disabled {
						status = "disabled"
					}
					fmt.Fprintf(e.stdout, "username  %s\nsubject   %s\nsource    %s\nstatus    %s\n", u.Username, u.Subject, u.Source, status)
					if u.Source == "store" {
						fmt.Fprintf(e.stdout, "password  %s\ncreated   %s\nupdated   %s\n", u.Password, u.Created, u.Updated)
					}
					for _, name := range slices.Sorted(maps.Keys(u.Claims)) {
						b, _ := json.Marshal(u.Claims[name])
						fmt.Fprintf(e.stdout, "claim     %s = %s\n", name, b)
					}
					return nil
				}
				return fmt.Errorf("no user %q in the store or in %s; see signet users list --config %s", args[0], s.cfg.Source, s.cfg.Source)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
