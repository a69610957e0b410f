package main

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/consent"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/internal/cpuprofile"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/signer/backend"
	"github.com/signet-id/signet/throttle"
)

type serveOptions struct {
	configPath      string
	dev             bool
	listen          string
	logFormat       string
	logLevel        string
	shutdownTimeout time.Duration
	unsafeTiming    bool
	cpuProfile      string // hidden: write a CPU profile (bench/)
}

func newServeCmd(e *env) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the token server",
		Long: `serve runs the token server: OpenID Connect discovery, the JWKS, the
token endpoint, the login flows (authorize, login page, userinfo,
introspection, revocation, end session), /healthz and /readyz; with
adminListen, an admin listener serves /metrics, the detailed /readyz and
/healthz.

With --config it reads a YAML configuration (see signet.example.yaml and
docs/configuration.md); without --config and --dev, ./signet.yaml. With
--dev it needs no file: it keeps its data under ./signet-data, creates a
demo client and API, a demo user and a public demo app, and prints a curl
command that gets a token and an authorize URL to sign in with.

Before it listens it runs the checks of signet config check; it binds the
port before it opens the store or creates a key.

It refuses to start when a timing rule of signet config check is broken
(a key announced for less than relying parties cache the JWKS, or retired
keys unpublished while their tokens are valid); --unsafe-timing starts it
anyway and logs each broken rule, for tests with second-long lifetimes.

SIGTERM or SIGINT shut it down gracefully (exit code 0). SIGHUP reloads the
clients, API resources and users from the configuration file; other changes
need a restart.`,
		Example: `  signet serve --dev
  signet serve --config signet.yaml
  signet serve --config signet.yaml --listen :8443 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			if o.cpuProfile != "" {
				stopProfile, err := cpuprofile.Start(o.cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer stopProfile()
			}
			return serve(ctx, o, e, hup)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", "", "the configuration file (default ./signet.yaml, when it exists)")
	f.BoolVar(&o.dev, "dev", false, "run a development server: no configuration file, data under ./signet-data, a demo client")
	f.StringVar(&o.listen, "listen", "", "the address to listen on, overriding the configuration (e.g. 127.0.0.1:8080, :8080)")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long a shutdown waits for requests in flight")
	f.BoolVar(&o.unsafeTiming, "unsafe-timing", false, "start even if a timing rule of signet config check is broken (tests with second-long key lifetimes); each broken rule is logged")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to this file until the server stops")
	f.MarkHidden("cpuprofile")
	return cmd
}

func listenError(addr string, err error) error {
	return fmt.Errorf("listen on %s: %w; free the port or choose another address with listen: or --listen", addr, err)
}

// serve runs the server until ctx is done, reloading clients on reload.
func serve(ctx context.Context, o *serveOptions, e *env, reload <-chan os.Signal) error {
	log, err := newLogger(o.logFormat, o.logLevel, e.stderr)
	if err != nil {
		return err
	}
	setServeGC(e.lookupEnv, log) // gc.go
	var (
		cfg *config.Config
		ln  net.Listener
		dev *devSetup
	)
	if !o.dev && o.configPath == "" {
		// As keys and config check: ./signet.yaml when it exists.
		if _, err := os.Stat(defaultConfigPath); err == nil {
			o.configPath = defaultConfigPath
		}
	}
	if o.listen != "" {
		if err := config.CheckListen(o.listen); err != nil {
			return usageError{fmt.Errorf("--listen %w", err)}
		}
	}
	switch {
	case o.dev && o.configPath != "":
		return usageError{errors.New("--dev and --config exclude each other: --dev runs without a configuration file")}
	case o.dev:
		if ln, cfg, dev, err = startDev(o.listen); err != nil {
			return err
		}
	case o.configPath == "":
		return usageError{errors.New("serve needs --config FILE or a ./signet.yaml (see signet.example.yaml), or --dev for a development server")}
	default:
		if cfg, err = config.Load(o.configPath, e.lookupEnv); err != nil {
			return err
		}
		if err := preflight(cfg, o.listen); err != nil {
			return err
		}
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return listenError(cfg.Listen, err)
		}
	}
	defer ln.Close()
	// Both listeners are bound before the store is opened or a key made.
	admin, err := listenAdmin(cfg) // admin.go
	if err != nil {
		return err
	}
	defer admin.close()
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if err := checkServeTiming(cfg, o.unsafeTiming, log); err != nil {
		return err
	}

	store, closeStore, err := signet.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	sealer, err := signet.NewSealer(cfg, log, nil)
	if err != nil {
		return err
	}
	// Closed last (deferred first): after the HTTP drain and the key
	// manager, when nothing signs any more.
	signers, err := backend.Open()
	if err != nil {
		return err
	}
	defer signers.Close()
	keyBackends, err := signet.OpenKeyBackends(ctx, cfg)
	if err != nil {
		return err
	}
	defer keyBackends.Close()
	kc := signet.ManagerConfig(cfg, store, sealer, signers.Factory(), log)
	keyBackends.Apply(&kc)
	m, err := keymanager.New(kc)
	if err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		return fmt.Errorf("load the signing keys: %w", err)
	}
	if err := m.Ready(); err != nil {
		log.Error("not ready: tokens cannot be issued until this is fixed; /readyz reports it", "error", err)
	}
	warnMigration(ctx, cfg, store, log)
	grants, err := signet.GrantStore(cfg, store, log)
	if err != nil {
		return err
	}
	// The clients and API resources: the file's and the client
	// registry's (clientreg), merged, followed by registry.Run.
	registry := startRegistry(ctx, cfg, store, log) // clients.go
	sc := serverConfig(registry.merged(cfg), m, grants, log)
	// One registry for the server's metrics and the connectors'.
	sc.Registry = prometheus.NewRegistry()
	if err := registerStoreMetrics(sc.Registry, store); err != nil { // storemetrics.go
		return err
	}
	if sc.Connectors, err = signet.ConnectorsIn(cfg, store, sealer, log, sc.Registry); err != nil {
		return err
	}
	sc.Attempts = signet.AttemptStore(cfg, store)
	// The configuration's users and the store's (signet users), one
	// chain under one hashing budget (users.go of package signet).
	sc.Hashing = throttle.NewHashing(cfg.Limits.PasswordHashingMemoryKiB, cfg.Limits.PasswordHashingQueue)
	staticUsers, chain, err := signet.UserSources(cfg, store, sc.Hashing, log)
	if err != nil {
		return err
	}
	if chain != nil {
		sc.Users, sc.UserSource = nil, chain
	}
	if sc.MFA, err = signet.ServerMFA(cfg, store, sealer, log); err != nil {
		return err
	}
	if err := addAdminFeatures(&sc, cfg, m, registry, log); err != nil { // serveadmin.go
		return err
	}
	tracing, err := startTracing(ctx, e, log) // tracing.go
	if err != nil {
		return err
	}
	defer stopTracing(tracing, log)
	sc.Tracing = tracing // nil unless OTEL_* turn it on
	srv, err := server.New(sc)
	if err != nil {
		return err
	}
	hs := newHTTPServer(srv, log) // admin.go
	registry.serve(srv)

	// The key manager outlives the HTTP drain, so requests in flight can
	// still sign.
	mctx, stopManager := context.WithCancel(context.WithoutCancel(ctx))
	defer stopManager()
	failed := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := m.Run(mctx); err != nil && !errors.Is(err, context.Canceled) {
			failed <- fmt.Errorf("key manager: %w", err)
		}
	})
	if registry.sync != nil {
		wg.Go(func() { _ = registry.sync.Run(mctx) }) // returns when mctx is done; failures are logged
	}
	if grants != nil {
		cleaner := &grant.Cleaner{Store: grants, Logger: log}
		wg.Go(func() { _ = cleaner.Run(mctx) }) // returns when mctx is done; failures are logged
	}
	if a, ok := store.(consent.ActivityStore); ok && cfg.Session.IdleTimeout > 0 {
		sweeper := &consent.ActivitySweeper{Store: a, Keep: cfg.Session.Lifetime, Logger: log}
		wg.Go(func() { _ = sweeper.Run(mctx) }) // returns when mctx is done; failures are logged
	}
	if x, ok := sc.Attempts.(throttle.Expirer); ok {
		sweeper := &throttle.Sweeper{Store: x, Logger: log}
		wg.Go(func() { _ = sweeper.Run(mctx) }) // returns when mctx is done; failures are logged
	}
	wg.Go(func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("serve: %w", err)
		}
	})

	admin.serve(srv, log, &wg, failed)

	log.Info("signet started", "issuer", cfg.Issuer, "addr", ln.Addr().String(), "store", string(cfg.Storage.Driver),
		"algorithms", m.SigningAlgorithms(), "clients", len(cfg.Clients))
	if dev != nil {
		dev.AdminAddr = admin.addr()
		printDevBanner(e.stdout, cfg, dev)
	}
	if e.started != nil {
		e.started(startedInfo{Addr: ln.Addr().String(), Issuer: cfg.Issuer, AdminAddr: admin.addr()})
	}

	var failure error
	applied := cfg // the clients, resources and users in use
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case failure = <-failed:
			break loop
		case <-reload:
			if dev != nil || o.configPath == "" {
				log.Info("SIGHUP ignored: nothing to reload in --dev mode")
				continue
			}
			if c := reloadClients(ctx, o, e, cfg, applied, srv, registry, staticUsers, log); c != nil {
				applied = c
			}
		}
	}

	log.Info("shutting down", "timeout", o.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
	shutdownErr := errors.Join(hs.Shutdown(sctx), admin.shutdown(sctx))
	cancel()
	stopManager()
	wg.Wait()
	if failure != nil {
		return failure
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// reloadClients re-reads the configuration file and swaps in its clients,
// API resources and users, logging what changed against applied (the
// last configuration swapped in). Other changes, against running (the
// start's), are reported and left for a restart. It returns the new
// configuration, or nil when it kept the running one.
func reloadClients(ctx context.Context, o *serveOptions, e *env, running, applied *config.Config, srv *server.Server, registry *serveRegistry, staticUsers *server.StaticUsers, log *slog.Logger) *config.Config {
	cfg, err := config.Load(o.configPath, e.lookupEnv)
	if err != nil {
		log.Error("reload failed; the running configuration stays", "error", err)
		return nil
	}
	if err := preflight(cfg, o.listen); err != nil {
		log.Error("reload failed; the running configuration stays", "error", err)
		return nil
	}
	if err := checkServeTiming(cfg, o.unsafeTiming, log); err != nil {
		log.Error("reload failed; the running configuration stays", "error", err)
		return nil
	}
	if changed := restartNeeded(running, cfg); len(changed) > 0 {
		log.Warn("these settings changed and take effect only after a restart", "settings", changed)
	}
	if registry.sync != nil {
		merged, err := registry.sync.Reload(ctx, cfg)
		switch {
		case merged == nil:
			log.Error("reload failed; the running configuration stays", "error", err)
			return nil
		case err != nil:
			log.Error("the client registry cannot be read; its clients of the last read stay", "error", err)
		}
		cfg = merged
	} else {
		clients, resources := signet.ServerClients(cfg)
		if err := srv.SetClients(clients, resources); err != nil {
			log.Error("reload failed; the running configuration stays", "error", err)
			return nil
		}
	}
	setUsers := srv.SetUsers
	if staticUsers != nil { // beside the store's users
		setUsers = staticUsers.Set
	}
	if err := setUsers(signet.ServerUsers(cfg)); err != nil {
		log.Error("reloading users failed; the running users stay", "error", err)
		cfg.Users = applied.Users
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	changes := reloadChanges(applied, cfg)
	if changes == nil {
		log.Info("configuration reloaded; no client, API resource or user changed")
		return cfg
	}
	log.Info("configuration reloaded", append(changes, "clients", len(cfg.Clients), "apiResources", len(cfg.APIResources), "users", len(cfg.Users))...)
	return cfg
}

// restartNeeded lists the settings that differ between a and b other than
// clients and API resources.
func restartNeeded(a, b *config.Config) []string {
	var out []string
	if a.Issuer != b.Issuer {
		out = append(out, "issuer")
	}
	if a.Listen != b.Listen {
		out = append(out, "listen")
	}
	if a.AdminListen != b.AdminListen {
		out = append(out, "adminListen")
	}
	if !slices.Equal(a.TrustedProxies, b.TrustedProxies) {
		out = append(out, "trustedProxies")
	}
	if a.Storage != b.Storage {
		out = append(out, "storage")
	}
	if !reflect.DeepEqual(a.AdminAPI, b.AdminAPI) {
		out = append(out, "adminAPI")
	}
	if !reflect.DeepEqual(a.DynamicRegistration, b.DynamicRegistration) {
		out = append(out, "dynamicRegistration")
	}
	if a.Limits != b.Limits {
		out = append(out, "limits")
	}
	if !reflect.DeepEqual(a.DPoP, b.DPoP) {
		out = append(out, "dpop")
	}
	if a.Passwords != b.Passwords {
		out = append(out, "passwords")
	}
	if !reflect.DeepEqual(a.UI, b.UI) {
		out = append(out, "ui")
	}
	if a.Session != b.Session {
		out = append(out, "session")
	}
	if !slices.EqualFunc(a.Connectors, b.Connectors, func(x, y config.Connector) bool { return x.Digest == y.Digest }) {
		out = append(out, "connectors")
	}
	if !reflect.DeepEqual(a.MFA, b.MFA) {
		out = append(out, "mfa")
	}
	if !reflect.DeepEqual(a.KeyManagement, b.KeyManagement) || a.JWKSMaxAge != b.JWKSMaxAge ||
		a.Protection.Enabled != b.Protection.Enabled || !reflect.DeepEqual(a.Protection.Secrets, b.Protection.Secrets) {
		out = append(out, "keyManagement")
	}
	if a.KeyBackend != b.KeyBackend || !reflect.DeepEqual(a.PreviousKeyBackend, b.PreviousKeyBackend) {
		out = append(out, "keyManagement.keyBackend")
	}
	if !sameKey(a.SigningCredential, b.SigningCredential) {
		out = append(out, "signingCredential")
	}
	if len(a.ValidationKeys) != len(b.ValidationKeys) {
		out = append(out, "validationKeys")
	} else {
		for i := range a.ValidationKeys {
			if !sameKey(&a.ValidationKeys[i], &b.ValidationKeys[i]) {
				out = append(out, "validationKeys")
				break
			}
		}
	}
	return out
}

func sameKey(a, b *config.StaticKey) bool {
	if a == nil || b == nil {
		return a == b
	}
	ea, ok := a.Public.(interface{ Equal(crypto.PublicKey) bool })
	return a.KID == b.KID && a.Algorithm == b.Algorithm && ok && ea.Equal(b.Public) && certsEqual(a, b)
}

func certsEqual(a, b *config.StaticKey) bool {
	if len(a.Certificates) != len(b.Certificates) {
		return false
	}
	for i := range a.Certificates {
		if !bytes.Equal(a.Certificates[i].Raw, b.Certificates[i].Raw) {
			return false
		}
	}
	return true
}
