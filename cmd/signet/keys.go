package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/signer/backend"
)

// defaultConfigPath is the configuration `signet keys` and `signet config
// check` read when --config is not given.
const defaultConfigPath = "signet.yaml"

// keysOptions are the flags every `signet keys` subcommand shares.
type keysOptions struct {
	configPath string
	// dev inspects the data of `signet serve --dev` instead of a
	// configuration's store.
	dev bool
	// at replaces the clock (hidden flag, RFC 3339): tests, and "what
	// would status say then".
	at string
}

func newKeysCmd(e *env) *cobra.Command {
	o := &keysOptions{}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Inspect and manage the signing keys in the configured store",
		Long: `keys works on the key store named by the configuration (--config), whether
or not a server is running; with --dev, on the keys of signet serve --dev
(./signet-data). Changes (rotate, revoke, reseal) reach running
instances through the store's change signal within about a second.

Read-only commands (list, export-jwks, timeline, status) never create or
change keys. They print what they can and then exit with code 1 when a
stored key cannot be opened with the configured secrets, or a configured
algorithm has no key that can sign. Exit codes: 0 success, 1 failure, 2
usage error.`,
		Example: `  signet keys list --dev
  signet keys list --config signet.yaml
  signet keys rotate --config signet.yaml --alg ES256
  signet keys status --config signet.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("keys needs a subcommand: list, rotate, revoke, reseal, export-jwks, timeline or status (see signet keys --help)")}
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&o.configPath, "config", "c", defaultConfigPath, "the configuration file of the server whose keys to manage")
	pf.BoolVar(&o.dev, "dev", false, "work on the keys of `signet serve --dev` (./signet-data) instead of a configuration's store")
	pf.StringVar(&o.at, "at", "", "act as if the time were this RFC 3339 instant (testing)")
	_ = pf.MarkHidden("at")
	cmd.AddCommand(
		newKeysListCmd(e, o),
		newKeysRotateCmd(e, o),
		newKeysRevokeCmd(e, o),
		newKeysResealCmd(e, o),
		newKeysExportJWKSCmd(e, o),
		newKeysTimelineCmd(e, o),
		newKeysStatusCmd(e, o),
	)
	return cmd
}

// noArgs is cobra.NoArgs as a usage error (exit code 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), strings.Join(args, " "), cmd.CommandPath())}
	}
	return nil
}

// clock returns the time source of a keys command.
func (o *keysOptions) clock() (func() time.Time, error) {
	if o.at == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339Nano, o.at)
	if err != nil {
		return nil, usageError{fmt.Errorf("--at %q: give an RFC 3339 time like 2026-03-01T12:00:00Z", o.at)}
	}
	return func() time.Time { return t }, nil
}

// keysSession is what a keys command works with: the configuration, its
// store and (when asked for) a key manager over it.
type keysSession struct {
	cfg   *config.Config
	store keystore.Store
	m     *keymanager.Manager
	// sealer is the protection sealer (with a manager; nil when
	// protection is off): keys reseal reseals the TOTP secrets with it.
	sealer *seal.Sealer
	now    func() time.Time
	close  func() error
}

// openKeys loads the configuration and opens its store, which must exist:
// a keys command never creates a store. With manager it also builds a key
// manager with the configured static keys, loaded with Load (creating
// nothing).
func openKeys(ctx context.Context, o *keysOptions, e *env, manager bool) (*keysSession, error) {
	now, err := o.clock()
	if err != nil {
		return nil, err
	}
	var cfg *config.Config
	if o.dev {
		if o.configPath != defaultConfigPath {
			return nil, usageError{errors.New("--dev and --config exclude each other: --dev works on the data of signet serve --dev")}
		}
		cfg, err = devKeysConfig()
	} else {
		cfg, err = config.Load(o.configPath, e.lookupEnv)
	}
	if err != nil {
		return nil, err
	}
	return openKeysFor(ctx, cfg, now, manager)
}

// openKeysFor is openKeys for a loaded configuration.
func openKeysFor(ctx context.Context, cfg *config.Config, now func() time.Time, manager bool) (*keysSession, error) {
	if err := storeExists(cfg); err != nil {
		return nil, err
	}
	store, closeStore, err := signet.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &keysSession{cfg: cfg, store: store, now: now, close: closeStore}
	if !manager {
		return s, nil
	}
	// fail closes what is open so far (s.close grows as more opens).
	fail := func(err error) (*keysSession, error) {
		s.close()
		return nil, err
	}
	if f := cfg.Protection.SecretFile; f != "" && !cfg.KeyBackend.External() {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			return fail(fmt.Errorf("the protection secret file %s is missing, so the stored keys cannot be opened; restore it from a backup (see docs/operations.md), or configure the secret that sealed them in keyManagement.protection.secrets", f))
		}
	}
	discard := slog.New(slog.DiscardHandler)
	sealer, err := signet.NewSealer(cfg, discard, nil)
	if err != nil {
		return fail(err)
	}
	s.sealer = sealer
	signers, err := backend.Open()
	if err != nil {
		return fail(err)
	}
	s.close = func() error { return errors.Join(signers.Close(), closeStore()) }
	keyBackends, err := signet.OpenKeyBackends(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	s.close = func() error { return errors.Join(keyBackends.Close(), signers.Close(), closeStore()) }
	kc := signet.ManagerConfig(cfg, store, sealer, signers.Factory(), discard)
	keyBackends.Apply(&kc)
	kc.Now = now
	m, err := keymanager.New(kc)
	if err != nil {
		return fail(err)
	}
	if err := m.Load(ctx); err != nil {
		return fail(fmt.Errorf("read the key store: %w; check the storage section of %s and that the store is reachable", err, cfg.Source))
	}
	s.m = m
	return s, nil
}

// storeExists refuses a store that keys commands cannot or should not
// open: the memory store lives inside a server process, and a missing
// SQLite or file store would be created empty.
func storeExists(cfg *config.Config) error {
	var path string
	switch cfg.Storage.Driver {
	case config.DriverMemory:
		return fmt.Errorf("%s: storage.driver memory keeps keys inside the server process, out of reach of `signet keys`; use sqlite, postgres or file", cfg.Source)
	case config.DriverSQLite:
		path = sqlitePath(cfg.Storage.DSN)
	case config.DriverFile:
		path = cfg.Storage.KeyPath
	default:
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no key store at %s; start the server once with this configuration to create it (signet serve --config %s), or fix the store's path in %s", path, cfg.Source, cfg.Source)
	}
	return nil
}

// stateStandby is how `keys list` and `keys timeline` show a managed key
// on standby: announced while the static signing credential signs (phase
// 1 of a migration).
const stateStandby = string(keymanager.StateStandby)

// sqlitePath is the database file of a SQLite DSN.
func sqlitePath(dsn string) string {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// listedState is the state `keys list` and `keys timeline` show: a key
// inside its signing window while an older key still signs ("ready") is
// listed as pending, since it is published and does not sign yet; a key
// the static signing credential stands in for is on standby.
func listedState(k keymanager.KeyInfo) string { return k.ListedState() }

// stamp writes t in RFC 3339, UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// until describes t relative to now: "in 14d", "in 20h59m", "now" or
// "2h ago" (days and hours from a day on, minutes from an hour on).
func until(now, t time.Time) string {
	d := t.Sub(now)
	suffix, prefix := "", "in "
	if d < 0 {
		d, suffix, prefix = -d, " ago", ""
	}
	switch {
	case d >= 24*time.Hour:
		d = d.Round(time.Hour)
	case d >= time.Hour:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Second)
	}
	if d == 0 {
		return "now"
	}
	return prefix + advisor.FormatDuration(d) + suffix
}

// keysTrouble is the failure of a read-only keys command that has printed
// what it could: stored keys no configured secret opens, or a configured
// algorithm with no key that can sign. nil when neither.
func keysTrouble(s *keysSession) error {
	var unreadable []string
	for _, k := range s.m.Keys() {
		if k.Unreadable != nil {
			unreadable = append(unreadable, k.KID)
		}
	}
	if len(unreadable) > 0 {
		return fmt.Errorf("%d stored key(s) cannot be opened with the secrets %s configures (%s); configure the secret that sealed them after the current one (see docs/key-management.md#unreadable-keys)",
			len(unreadable), s.cfg.Source, strings.Join(unreadable, ", "))
	}
	// An algorithm the static signing credential signs needs no managed
	// key (phase 1 of a migration, before a server ran).
	static := map[key.Algorithm]bool{}
	for _, k := range s.m.Keys() {
		if k.State == keymanager.StateStaticSigning {
			static[k.Algorithm] = true
		}
	}
	var missing []string
	for _, ser := range s.m.Plan().Series {
		if ser.Configured && ser.Signing == "" && !static[ser.Algorithm] {
			missing = append(missing, string(ser.Algorithm))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no key can sign %s: the store holds no managed key for it; a server with %s creates it when it starts (signet serve), and `signet config check --connect` tells whether that server would be ready",
			strings.Join(missing, ", "), s.cfg.Source)
	}
	return nil
}

// warnUnreadable reports keys the manager could not open, one line each.
func warnUnreadable(e *env, keys []keymanager.KeyInfo) {
	for _, k := range keys {
		if k.Unreadable != nil {
			fmt.Fprintf(e.stderr, "warning: key %s cannot be opened and is not published: %s; configure the secret that sealed it (see docs/key-management.md#unreadable-keys)\n",
				k.KID, oneLine(k.Unreadable.Error()))
		}
	}
}
