package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

func newKeysListCmd(e *env, o *keysOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every key: configured keys, then managed keys with their schedule",
		Long: `list prints every key the server knows: the configured signingCredential
(state static-signing) and validationKeys (validation), then each managed key
with its state and schedule (RFC 3339, UTC):

  pending   published, does not sign yet (also a key inside its signing
            window while an older key still signs)
  active    the key that signs for its algorithm
  standby   announced; the static credential signs (phase 1 of a migration
            from a signingCredential of the same algorithm): it would be
            active, and signs once the signingCredential is moved to
            validationKeys
  retired   no longer signs, still published so its tokens validate
  revoked   revoked by an operator, unpublished
  expired   past its retention, unpublished; listed only when
            keyManagement.deleteRetiredKeys is false

--json prints an array of objects with kid, alg, state, created, signsFrom,
retiresAt, deleteAfter (null for configured keys), x509 and, for managed
keys, backend: where the private key is held (software, pkcs11, awskms; see
docs/hsm-and-kms.md). The table adds a BACKEND column when a key is held by
pkcs11 or awskms.`,
		Example: `  signet keys list --config signet.yaml
  signet keys list --config signet.yaml --json | jq -r '.[] | select(.state == "active") | .kid'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openKeys(cmd.Context(), o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			keys := s.m.Keys()
			warnUnreadable(e, keys)
			write := writeKeysTable
			if asJSON {
				write = writeKeysJSON
			}
			if err := write(e.stdout, keys); err != nil {
				return err
			}
			return keysTrouble(s)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func writeKeysJSON(w io.Writer, keys []keymanager.KeyInfo) error {
	b, err := json.MarshalIndent(keymanager.Listing(keys), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeKeysTable prints the table; a BACKEND column is added when some
// managed key is held by a key backend (pkcs11, awskms), so a software-only
// deployment keeps its narrow table.
func writeKeysTable(w io.Writer, keys []keymanager.KeyInfo) error {
	withBackend := slices.ContainsFunc(keys, func(k keymanager.KeyInfo) bool {
		return k.Backend != "" && k.Backend != key.BackendSoftware
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tRETIRES AT\tDELETE AFTER\tX509"
	if withBackend {
		header += "\tBACKEND"
	}
	fmt.Fprintln(tw, header)
	for _, k := range keys {
		created, signs, retires, deletes := "-", "-", "-", "-"
		if !k.Created.IsZero() {
			created, signs, retires, deletes = stamp(k.Created), stamp(k.SignsFrom), stamp(k.RetiresAt), stamp(k.DeleteAfter)
		}
		x := "no"
		if k.X509 {
			x = "yes"
		}
		state := listedState(k)
		if k.Unreadable != nil {
			state += " (unreadable)"
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", k.KID, k.Algorithm, state, created, signs, retires, deletes, x)
		if withBackend {
			b := k.Backend
			if b == "" {
				b = "config" // a configured key: a file, no backend
			}
			row += "\t" + b
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}
