package main

import (
	"bytes"
	"fmt"
	"log/slog"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
)

// preflight is the validation serve runs on a loaded configuration before
// it binds a port or opens the store, and exactly what `signet config
// check` runs: the listen address (listenFlag, when set, overrides it as
// --listen does), the protection secrets (reading, never creating, the
// generated secret file), and the checks the key manager and the server
// make of the keys, clients, API resources and users when they are built.
// The timing rules are the caller's (serve logs them, config check prints
// them); both take them from cfg.CheckTiming.
func preflight(cfg *config.Config, listenFlag string) error {
	if listenFlag != "" {
		if err := config.CheckListen(listenFlag); err != nil {
			return usageError{fmt.Errorf("--listen %w", err)}
		}
		cfg.Listen = listenFlag
	} else if err := config.CheckListen(cfg.Listen); err != nil {
		return fmt.Errorf("%s: listen: %w", cfg.Source, err)
	}
	if err := cfg.CheckProtectionSecrets(); err != nil {
		return err
	}
	var sealer *seal.Sealer
	if cfg.Protection.Enabled {
		secrets := cfg.Protection.Secrets
		if len(secrets) == 0 {
			// Generated (or, for the memory store, per process): its
			// file was checked above; the manager needs some sealer.
			secrets = [][]byte{bytes.Repeat([]byte{'x'}, seal.MinSecretLength)}
		}
		s, err := seal.New(secrets)
		if err != nil {
			return fmt.Errorf("%s: keyManagement.protection.secrets: %w", cfg.Source, err)
		}
		sealer = s
	}
	// The manager and the server over a store that is never touched:
	// building them runs their checks and nothing else.
	discard := slog.New(slog.DiscardHandler)
	store := memstore.New()
	m, err := keymanager.New(signet.ManagerConfig(cfg, store, sealer, nil, discard))
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Source, err)
	}
	var grants grant.Store = store
	if cfg.Storage.Driver == config.DriverFile {
		grants = nil // keys only: serve runs without the login flows
	}
	sc := serverConfig(cfg, m, grants, discard)
	if grants != nil && (!cfg.KeyBackend.External() || len(cfg.Protection.Secrets) > 0) {
		// As serve: a second factor when a protection secret seals it.
		if sc.MFA, err = signet.ServerMFA(cfg, store, sealer, discard); err != nil {
			return fmt.Errorf("%s: %w", cfg.Source, err)
		}
	}
	if _, err := server.New(sc); err != nil {
		return fmt.Errorf("%s: %w", cfg.Source, err)
	}
	// The connectors as serve builds them (an unreadable caFile, a
	// filter the LDAP library refuses); nothing is dialled. Their records
	// go to a memory store here, whatever the driver: serve checks that
	// the opened store keeps them.
	records := struct {
		*memstore.Store
		connectorRecords
	}{store, connector.NewMemoryStore()}
	if _, err := signet.Connectors(cfg, records, sealer, discard); err != nil {
		return fmt.Errorf("%s: %w", cfg.Source, err)
	}
	return nil
}

// connectorRecords names connector.Store where a struct embeds it beside
// a key store.
type connectorRecords = connector.Store
