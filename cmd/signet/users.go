package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// usersOptions are the flags every `signet users` subcommand shares.
type usersOptions struct {
	configPath string
}

func newUsersCmd(e *env) *cobra.Command {
	o := &usersOptions{}
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the users kept in the configured store",
		Long: `users works on the users kept in the store named by the configuration
(--config: storage.driver sqlite or postgres), whether or not a server is
running. Running instances see every change at their next request: a
disabled or deleted user's sessions and refresh tokens are refused at
once by every instance sharing the store.

The configuration's own users (users in the YAML) are read-only here:
list and show include them (source "config"), and a store user cannot
take their username or subject.

New passwords follow the password policy (passwords in the
configuration): at least passwords.minLength characters (8), not on the
list in passwords.breachedPasswordsFile, no composition rules. On a
terminal they are asked for twice without echo; otherwise they are read
from stdin (one trailing newline is ignored). See docs/users.md.

Exit codes: 0 success, 1 failure, 2 usage error.`,
		Example: `  signet users add alice --config signet.yaml --claim email=alice@example.com --claim email_verified=true
  signet users list --config signet.yaml
  signet users disable alice --config signet.yaml
  signet users import people.csv --config signet.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("users needs a subcommand: add, list, show, update, disable, enable, delete, set-password, import, consents or reset-mfa (see signet users --help)")}
		},
	}
	cmd.PersistentFlags().StringVarP(&o.configPath, "config", "c", defaultConfigPath, "the configuration file of the server whose users to manage")
	cmd.AddCommand(
		newUsersAddCmd(e, o),
		newUsersListCmd(e, o),
		newUsersShowCmd(e, o),
		newUsersUpdateCmd(e, o),
		newUsersDisableCmd(e, o),
		newUsersEnableCmd(e, o),
		newUsersDeleteCmd(e, o),
		newUsersSetPasswordCmd(e, o),
		newUsersImportCmd(e, o),
		newUsersConsentsCmd(e, o), // users_consents.go
		newUsersResetMFACmd(e, o), // users_resetmfa.go
	)
	return cmd
}

// usersSession is what a users command works with.
type usersSession struct {
	cfg   *config.Config
	store userstore.Store
	close func() error
}

// openUsers loads the configuration and opens its store's users.
func openUsers(ctx context.Context, o *usersOptions, e *env) (*usersSession, error) {
	cfg, err := config.Load(o.configPath, e.lookupEnv)
	if err != nil {
		return nil, err
	}
	switch cfg.Storage.Driver {
	case config.DriverMemory:
		return nil, fmt.Errorf("%s: storage.driver memory keeps users inside the server process, out of reach of `signet users`; use sqlite or postgres", cfg.Source)
	case config.DriverFile:
		return nil, fmt.Errorf("%s: storage.driver file keeps keys only, not users; use sqlite or postgres to keep users in the store", cfg.Source)
	}
	store, closeStore, err := signet.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	us := signet.UserStore(store)
	if us == nil {
		closeStore()
		return nil, fmt.Errorf("%s: storage.driver %s keeps no users", cfg.Source, cfg.Storage.Driver)
	}
	return &usersSession{cfg: cfg, store: us, close: closeStore}, nil
}

// withUsers runs fn with an open session and closes it.
func withUsers(cmd *cobra.Command, o *usersOptions, e *env, fn func(ctx context.Context, s *usersSession) error) error {
	ctx := cmd.Context()
	s, err := openUsers(ctx, o, e)
	if err != nil {
		return err
	}
	defer s.close()
	return fn(ctx, s)
}

// checkNew refuses a store user that would clash with the configuration:
// a configured user's username or subject, or a client's clientId as
// subject (a client_credentials token's sub).
func (s *usersSession) checkNew(username, subject string) error {
	for _, u := range s.cfg.Users {
		if u.Username == username {
			return fmt.Errorf("username %q belongs to a user of %s (users in the configuration are read-only here); choose another username", username, s.cfg.Source)
		}
		if u.Subject == subject {
			return fmt.Errorf("subject %q belongs to a user of %s; choose another subject (or leave --subject out for a random one)", subject, s.cfg.Source)
		}
	}
	for _, c := range s.cfg.Clients {
		if c.ClientID == subject {
			return fmt.Errorf("subject %q is the clientId of a client in %s: that client's tokens carry it as sub; choose another subject", subject, s.cfg.Source)
		}
	}
	return nil
}

// storeUserCmd makes c a users subcommand that acts on one store user,
// USERNAME: act changes it and returns the line to print.
func storeUserCmd(e *env, o *usersOptions, c *cobra.Command, act func(ctx context.Context, s *usersSession, r userstore.Record) (string, error)) *cobra.Command {
	c.Args = usersArg
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return withUsers(cmd, o, e, func(ctx context.Context, s *usersSession) error {
			r, err := s.storeUser(ctx, args[0])
			if err != nil {
				return err
			}
			line, err := act(ctx, s, r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, line)
			return err
		})
	}
	return c
}

// storeUser returns the store user username, with an error that says
// where to look when there is none.
func (s *usersSession) storeUser(ctx context.Context, username string) (userstore.Record, error) {
	r, err := s.store.UserByName(ctx, username)
	if errors.Is(err, userstore.ErrNotFound) {
		if configUserByName(s.cfg, username) != nil {
			return r, fmt.Errorf("%s is a user of %s, read-only here: edit the configuration (and reload the server) to change it", username, s.cfg.Source)
		}
		return r, fmt.Errorf("no user %q in the store; see signet users list --config %s", username, s.cfg.Source)
	}
	return r, err
}

// policy is the configuration's password policy with its breached list.
func (s *usersSession) policy() (*userstore.Policy, error) {
	return signet.PasswordPolicy(s.cfg, true)
}

// newSubject returns a random subject: a UUID (version 4).
func newSubject() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// claimValue reads a claim's value as written on a command line or in a
// CSV cell: JSON when it parses as JSON (true, 42, ["a","b"], {...}),
// else the text itself.
func claimValue(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil && v != nil {
		return v
	}
	return s
}

// parseClaimFlags applies --claim name=value and --unset-claim name to
// claims, checking every claim it sets.
func parseClaimFlags(claims map[string]any, set, unset []string) (map[string]any, error) {
	if claims == nil {
		claims = map[string]any{}
	}
	for _, kv := range set {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, usageError{fmt.Errorf("--claim %q: write name=value, e.g. --claim email=alice@example.com or --claim 'groups=[\"staff\"]'", kv)}
		}
		v := claimValue(val)
		if err := user.CheckClaim(name, v); err != nil {
			return nil, claimErr(err)
		}
		claims[name] = v
	}
	for _, name := range unset {
		if _, ok := claims[name]; !ok {
			return nil, fmt.Errorf("--unset-claim %s: the user has no claim %s", name, name)
		}
		delete(claims, name)
	}
	return claims, nil
}

// claimErr words a user.ClaimError for the command line.
func claimErr(err error) error {
	var ce *user.ClaimError
	if errors.As(err, &ce) {
		return fmt.Errorf("claim %s %s", ce.Name, ce.Problem)
	}
	return err
}

// readNewPassword asks for a new password twice without echo on a
// terminal, or reads it from stdin.
func readNewPassword(e *env, username string) (string, error) {
	if e.isTerminal == nil || !e.isTerminal() || e.readSecret == nil {
		return readStdinValue(e, "password", `printf '%s' "$PASSWORD" | signet users set-password `+username)
	}
	first, err := e.readSecret("Password for " + username + ": ")
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	again, err := e.readSecret("Repeat the password: ")
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if again != first {
		return "", errors.New("the two passwords differ; nothing changed")
	}
	return first, nil
}

// newHash applies the password policy and hashes the password.
func (s *usersSession) newHash(password string) (string, error) {
	p, err := s.policy()
	if err != nil {
		return "", err
	}
	if err := p.Check(password); err != nil {
		return "", fmt.Errorf("%w; nothing changed", err)
	}
	return p.Hash(password)
}

// confirm asks a yes/no question on the terminal; without one it is a
// usage error (noTerminal names the flag that skips it). what names the
// operation in the errors ("revoke of K"): "what cancelled; nothing
// changed".
func confirm(e *env, question, noTerminal, what string) error {
	if e.isTerminal == nil || !e.isTerminal() {
		return usageError{errors.New(noTerminal)}
	}
	fmt.Fprintf(e.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%s cancelled: no answer; nothing changed", what)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
		return nil
	}
	return fmt.Errorf("%s cancelled; nothing changed", what)
}

// hashInfo describes a stored hash without its secret parts.
func hashInfo(h string) string {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		parts := strings.Split(h, "$")
		if len(parts) > 3 {
			return "argon2id " + parts[3]
		}
	case strings.HasPrefix(h, "$2"):
		return "bcrypt (upgraded to argon2id at the next sign-in)"
	}
	return "unknown"
}

func usersNow() time.Time { return time.Now().UTC() }
