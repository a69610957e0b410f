package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/registration"
)

// registryOptions are the flags every `signet clients` and `signet
// resources` subcommand shares.
type registryOptions struct {
	configPath string
	// at replaces the clock (hidden flag, RFC 3339), as for keys.
	at string
}

func (o *registryOptions) flags(cmd *cobra.Command, what string) {
	pf := cmd.PersistentFlags()
	pf.StringVarP(&o.configPath, "config", "c", defaultConfigPath, "the configuration file of the server whose "+what+" to manage")
	pf.StringVar(&o.at, "at", "", "act as if the time were this RFC 3339 instant (testing)")
	_ = pf.MarkHidden("at")
}

// registrySession is what a clients or resources command works with: the
// configuration, its store's client registry (refusing the file's ids)
// and the clock.
type registrySession struct {
	cfg   *config.Config
	reg   clientreg.Store
	now   func() time.Time
	close func() error
}

// openRegistry loads the configuration and opens its store's client
// registry; the store must exist, as for `signet keys`.
func openRegistry(ctx context.Context, o *registryOptions, e *env) (*registrySession, error) {
	now, err := (&keysOptions{at: o.at}).clock()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(o.configPath, e.lookupEnv)
	if err != nil {
		return nil, err
	}
	if cfg.Storage.Driver == config.DriverMemory {
		return nil, fmt.Errorf("%s: storage.driver memory keeps clients inside the server process, out of reach of the CLI; use sqlite or postgres to add clients at run time", cfg.Source)
	}
	if err := storeExists(cfg); err != nil {
		return nil, err
	}
	store, closeStore, err := signet.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	reg := signet.ClientRegistry(store)
	if reg == nil {
		closeStore()
		return nil, fmt.Errorf("%s: storage.driver %s keeps keys only, not clients; keep clients in the file, or use sqlite or postgres to add them at run time", cfg.Source, cfg.Storage.Driver)
	}
	return &registrySession{cfg: cfg, reg: signet.ReserveFileIDs(reg, cfg), now: now, close: closeStore}, nil
}

// change is the audit author of a CLI write, at the session's time.
func (s *registrySession) change(action string) clientreg.Change {
	return clientreg.Change{By: clientreg.ByCLI, Action: action, At: s.now()}
}

// check refuses a change that a server would not serve
// (signet.CheckChange), adding the flag to set to an error about the
// changed entry's field.
func (s *registrySession) check(ctx context.Context, kind, id string, edit func(*signet.StoredRecords)) error {
	err := signet.CheckChange(ctx, s.cfg, s.reg, s.now(), kind, id, edit)
	var entry *config.EntryError
	if errors.As(err, &entry) {
		return flagHint(entry.Err)
	}
	return err
}

// flagHints name the flag that sets a field in the configuration's
// errors about a stored entry.
var flagHints = []struct{ field, flag string }{
	{".allowedScopes", "--scope"},
	{".allowedGrantTypes", "--grant-type"},
	{".redirectUris", "--redirect-uri"},
	{".postLogoutRedirectUris", "--post-logout-redirect-uri"},
	{".allowedCorsOrigins", "--cors-origin"},
	{".accessTokenLifetime", "--access-token-lifetime"},
	{".refreshTokenLifetime", "--refresh-token-lifetime"},
	{".identityTokenLifetime", "--identity-token-lifetime"},
	{".refreshTokenReuseInterval", "--refresh-token-reuse-interval"},
	{".tokenEndpointAuthMethod", "--token-endpoint-auth-method"},
	{".jwksUri", "--jwks-uri"},
	{".jwks", "--jwks-file"},
	{".securityProfile", "--security-profile"},
	{".allowedIdentityTokenSigningAlgorithms", "--id-token-signing-alg"},
	{".allowedAccessTokenSigningAlgorithms", "--signing-alg"},
	{".scopes", "--scope"},
	{".requireConsent", "--require-consent"},
	{".allowRememberConsent", "--allow-remember-consent"},
	{".requireMfa", "--require-mfa"},
	{".displayName", "--display-name"},
	{".logoUri", "--logo-uri"},
	{".clientUri", "--client-uri"},
	{".allowedConnectors", "--connector"},
}

// flagHint adds the flag to set to an error that names a field.
func flagHint(err error) error {
	msg := err.Error()
	for _, h := range flagHints {
		if i := strings.Index(msg, "]"+h.field); i >= 0 {
			rest := msg[i+1+len(h.field):]
			if rest == "" || rest[0] == ':' || rest[0] == '[' {
				return fmt.Errorf("%w (flag %s)", err, h.flag)
			}
		}
	}
	return err
}

// registryError turns the registry's sentinels into messages with the fix.
func registryError(err error, kind, id, cmd string) error {
	switch {
	case errors.Is(err, clientreg.ErrNotFound):
		return fmt.Errorf("no %s %q in the store; list them with signet %s list", kind, id, cmd)
	case errors.Is(err, clientreg.ErrExists):
		return fmt.Errorf("%s %q is already in the store; change it with signet %s update %s, or pick another id", kind, id, cmd, id)
	case errors.Is(err, clientreg.ErrConflict):
		return fmt.Errorf("%s %q changed while this command ran (or since --if-revision); run it again", kind, id)
	}
	return err
}

// ifRevision reads --if-revision: 0 (not given) means the revision read.
func ifRevision(flag, read int64) int64 {
	if flag != 0 {
		return flag
	}
	return read
}

// printJSON writes v indented, with a newline.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printRecord writes a stored record as JSON without secrets or hashes
// (clientreg.Redact), indented.
func printRecord(w io.Writer, v any) error {
	var m any
	if err := json.Unmarshal(clientreg.Redact(v), &m); err != nil {
		return err
	}
	return printJSON(w, m)
}

// newSecret generates a secret and its stored form (sha256, as `signet
// hash-secret --generate` prints: 32 random bytes need no slow hash).
func newSecret(at time.Time) (string, clientreg.Secret, error) {
	secret, hash, err := registration.NewSecret(nil)
	if err != nil {
		return "", clientreg.Secret{}, err
	}
	return secret, clientreg.Secret{Hash: hash, CreatedAt: at.UTC()}, nil
}

// secretOnce tells, on stderr, that a printed secret will not be shown again.
func secretOnce(e *env, what string) {
	fmt.Fprintf(e.stderr, "The %s is shown once: hand it to the client now. The store keeps only its hash; a lost secret is replaced with rotate-secret.\n", what)
}

// joinOr writes a list for a table cell: "-" when empty.
func joinOr(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, ",")
}

// durationFlag checks a lifetime flag with the configuration's syntax.
func durationFlag(name, v string) error {
	if _, err := config.ParseDuration(v); err != nil {
		return usageError{fmt.Errorf("--%s: %w", name, err)}
	}
	return nil
}

// changesSomething reports whether update was given a flag that changes a
// setting (not only --config, --json or --if-revision).
func changesSomething(cmd *cobra.Command) bool {
	n := 0
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "config", "at", "json", "if-revision":
		default:
			n++
		}
	})
	return n > 0
}

// recordFlagsCLIOnly marks every flag of cmd but --json command line only
// (markCLIOnly): a SIGNET_SCOPE or SIGNET_SECRET_HASH left in an
// environment must not change the next client anyone adds or updates.
func recordFlagsCLIOnly(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "json" {
			markCLIOnly(cmd, f.Name)
		}
	})
}
