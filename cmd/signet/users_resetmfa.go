package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/mfa"
)

func newUsersResetMFACmd(e *env, o *usersOptions) *cobra.Command {
	var subject string
	cmd := &cobra.Command{
		Use:   "reset-mfa [USERNAME] [--subject SUB]",
		Short: "Delete a user's second factor (lost phone): they enrol again at their next sign-in",
		Long: `reset-mfa deletes a user's second factor from the store: the TOTP secret
and the unused recovery codes. The next sign-in that needs a second
factor (mfa.required, mfa.requiredSubjects, a client's requireMfa, or a
request for the multi-factor acr) enrols again; until then the user signs
in with the first factor alone where nothing requires more.

Name the user by USERNAME (a user of the configuration) or by --subject
(the sub claim: any user, whatever source it comes from, such as an
upstream identity provider). Check who asks first: whoever holds the
password can enrol a new phone after a reset. The user's sessions are
not ended. See docs/users.md, "Second factor".`,
		Example: `  signet users reset-mfa alice --config signet.yaml
  signet users reset-mfa --subject 248289761001 --config signet.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usageError{fmt.Errorf("reset-mfa takes one USERNAME, got %d arguments", len(args))}
			case len(args) == 1 && subject != "":
				return usageError{errors.New("give USERNAME or --subject, not both")}
			case len(args) == 0 && subject == "":
				return usageError{errors.New("reset-mfa needs a USERNAME or --subject SUB")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := config.Load(o.configPath, e.lookupEnv)
			if err != nil {
				return err
			}
			who := subject
			if len(args) == 1 {
				u := configUserByName(cfg, args[0])
				if u == nil {
					return fmt.Errorf("%s: no user named %q in the configuration; for a user from elsewhere (the store, an upstream provider) give --subject", cfg.Source, args[0])
				}
				subject, who = u.Subject, fmt.Sprintf("%s (sub %s)", u.Username, u.Subject)
			}
			switch cfg.Storage.Driver {
			case config.DriverMemory:
				return fmt.Errorf("%s: storage.driver memory keeps second factors inside the server process, out of reach of `signet users`; restarting the server forgets them", cfg.Source)
			case config.DriverFile:
				return fmt.Errorf("%s: storage.driver file keeps no second factors; use sqlite or postgres", cfg.Source)
			}
			store, closeStore, err := signet.OpenStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer closeStore()
			ms := signet.MFAStore(store)
			if ms == nil {
				return fmt.Errorf("%s: storage.driver %s keeps no second factors", cfg.Source, cfg.Storage.Driver)
			}
			had, err := ms.DeleteMFA(ctx, subject)
			if err != nil {
				return fmt.Errorf("reset the second factor of %s: %w", who, err)
			}
			if ps, ok := ms.(mfa.PasskeyStore); ok {
				hadPasskeys, err := ps.DeletePasskeys(ctx, subject)
				if err != nil {
					return fmt.Errorf("reset the passkeys of %s: %w", who, err)
				}
				had = had || hadPasskeys
			}
			if !had {
				fmt.Fprintf(e.stdout, "%s has no second factor; nothing changed\n", who)
				return nil
			}
			fmt.Fprintf(e.stdout, "reset the second factor of %s: the TOTP secret, recovery codes and passkeys are deleted; they enrol again at their next sign-in that needs a second factor\n", who)
			return nil
		},
	}
	cmd.Flags().StringVar(&subject, "subject", "", "the user's subject (sub), for a user that is not in the configuration")
	// A variable left in the environment would choose whose second factor
	// is deleted.
	markCLIOnly(cmd, "subject")
	return cmd
}

// configUserByName returns the configuration's user with username, or nil.
func configUserByName(cfg *config.Config, username string) *config.User {
	for i := range cfg.Users {
		if cfg.Users[i].Username == username {
			return &cfg.Users[i]
		}
	}
	return nil
}
