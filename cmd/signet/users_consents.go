package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/consent"
)

func newUsersConsentsCmd(e *env, o *usersOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consents",
		Short: "List and revoke remembered consents (clients[].allowRememberConsent)",
		Long: `consents lists and revokes what users let clients have on the consent page
and asked to remember (clients[].requireConsent and allowRememberConsent).
A revoked consent is asked for again at the client's next sign-in; the
tokens the client already holds are not revoked (use the revocation
endpoint or end the user's sessions for that).

--user takes a subject, or the username of a configured user.`,
		Example: `  signet users consents list --config signet.yaml
  signet users consents list --config signet.yaml --user alice --json
  signet users consents revoke --config signet.yaml --user alice --client portal
  signet users consents revoke --config signet.yaml --user alice --all`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("consents needs a subcommand: list or revoke (see signet users consents --help)")}
		},
	}
	cmd.AddCommand(newConsentsListCmd(e, o), newConsentsRevokeCmd(e, o))
	return cmd
}

// consentJSON is one element of `users consents list --json`.
type consentJSON struct {
	Subject  string   `json:"subject"`
	ClientID string   `json:"clientId"`
	Scopes   []string `json:"scopes"`
	Granted  string   `json:"granted"`
}

func newConsentsListCmd(e *env, o *usersOptions) *cobra.Command {
	var user string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List remembered consents (of every user, or of --user)",
		Long: `list prints the remembered consents, by subject then client: SUBJECT,
CLIENT, GRANTED (RFC 3339, UTC) and SCOPES. --json prints an array of
objects with subject, clientId, scopes and granted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withConsents(cmd.Context(), e, o, func(cfg *config.Config, st consent.Store) error {
				subject := ""
				if user != "" {
					subject = resolveSubject(cfg, user)
				}
				recs, err := st.Consents(cmd.Context(), subject)
				if err != nil {
					return fmt.Errorf("read consents: %w", err)
				}
				if asJSON {
					out := make([]consentJSON, 0, len(recs))
					for _, r := range recs {
						out = append(out, consentJSON{Subject: r.Subject, ClientID: r.ClientID, Scopes: r.Scopes, Granted: r.Granted.UTC().Format(time.RFC3339)})
					}
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(out)
				}
				if len(recs) == 0 {
					fmt.Fprintln(e.stdout, "no remembered consents")
					return nil
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "SUBJECT\tCLIENT\tGRANTED\tSCOPES")
				for _, r := range recs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Subject, r.ClientID, r.Granted.UTC().Format(time.RFC3339), strings.Join(r.Scopes, " "))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "only this user's consents (a subject, or a configured username)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return cmd
}

func newConsentsRevokeCmd(e *env, o *usersOptions) *cobra.Command {
	var user, client string
	var all bool
	cmd := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke a user's remembered consent to a client (--client) or to every client (--all)",
		Long: `revoke deletes the remembered consent of --user to --client, or to every
client with --all: the consent page asks again at the next sign-in. It
prints how many consents it revoked; revoking one that does not exist is
not an error (it prints 0).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case user == "":
				return usageError{errors.New("revoke needs --user (a subject or a configured username)")}
			case client == "" && !all:
				return usageError{errors.New("revoke needs --client CLIENT_ID, or --all for every client of the user")}
			case client != "" && all:
				return usageError{errors.New("--client and --all exclude each other")}
			}
			return withConsents(cmd.Context(), e, o, func(cfg *config.Config, st consent.Store) error {
				subject := resolveSubject(cfg, user)
				n, err := st.RevokeConsent(cmd.Context(), subject, client)
				if err != nil {
					return fmt.Errorf("revoke consents: %w", err)
				}
				what := "client " + client
				if all {
					what = "every client"
				}
				fmt.Fprintf(e.stdout, "revoked %d consent(s) of %s to %s\n", n, subject, what)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user (a subject, or a configured username)")
	cmd.Flags().StringVar(&client, "client", "", "the client whose consent to revoke")
	cmd.Flags().BoolVar(&all, "all", false, "revoke the user's consents to every client")
	markCLIOnly(cmd, "all") // a SIGNET_ALL left in the environment would widen every revoke
	return cmd
}

// withConsents opens the configured store and runs fn with its consent
// store.
func withConsents(ctx context.Context, e *env, o *usersOptions, fn func(*config.Config, consent.Store) error) error {
	cfg, err := config.Load(o.configPath, e.lookupEnv)
	if err != nil {
		return err
	}
	s, err := openKeysFor(ctx, cfg, time.Now, false)
	if err != nil {
		return err
	}
	defer s.close()
	st, ok := s.store.(consent.Store)
	if !ok {
		return fmt.Errorf("%s: storage.driver %s keeps keys only, not consents; use sqlite or postgres", cfg.Source, cfg.Storage.Driver)
	}
	return fn(cfg, st)
}

// resolveSubject returns the subject of the configured user whose
// username is user, or user itself (a subject).
func resolveSubject(cfg *config.Config, user string) string {
	if u := configUserByName(cfg, user); u != nil {
		return u.Subject
	}
	return user
}
