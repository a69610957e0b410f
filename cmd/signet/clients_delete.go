package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newClientsDeleteCmd(e *env, o *registryOptions) *cobra.Command {
	var rev int64
	cmd := &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a stored client",
		Long: `delete removes a stored client. Running instances stop serving it within
about a second: it gets no new tokens; tokens already issued stay valid
until they expire. With --if-revision it deletes only that revision.`,
		Example: `  signet clients delete --config signet.yaml billing`,
		Args:    exactlyOneID("client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			if err := s.reg.DeleteClient(cmd.Context(), id, rev, s.change("")); err != nil {
				return registryError(err, "client", id, "clients")
			}
			_, err = fmt.Fprintf(e.stdout, "deleted client %s\n", id)
			return err
		},
	}
	cmd.Flags().Int64Var(&rev, "if-revision", 0, "delete the client only if it is still at this revision (see show)")
	recordFlagsCLIOnly(cmd)
	return cmd
}
