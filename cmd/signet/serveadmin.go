package main

import (
	"errors"
	"log/slog"
	"slices"
	"time"

	signet "github.com/signet-id/signet"
	"github.com/signet-id/signet/adminapi"
	"github.com/signet-id/signet/adminauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server"
)

// addAdminFeatures adds the admin API (adminAPI) and dynamic client
// registration (dynamicRegistration) to sc. Both write to the client
// registry, reserving the file's ids, and check a record by the file's
// rules against the configuration in use before storing it. Admin and
// initial access tokens are verified against the key set the JWKS
// endpoint publishes (the key manager's).
func addAdminFeatures(sc *server.Config, cfg *config.Config, m *keymanager.Manager, registry *serveRegistry, log *slog.Logger) error {
	if !cfg.AdminAPI.Enabled && !cfg.DynamicRegistration.Enabled {
		return nil
	}
	if registry.sync == nil {
		return errors.New("adminAPI and dynamicRegistration need a store that keeps clients (storage.driver sqlite, postgres or memory)")
	}
	store := signet.ReserveFileIDs(registry.sync.Registry, cfg)
	merged := func() *config.Config {
		if c := registry.sync.Merged(); c != nil {
			return c
		}
		return cfg
	}
	// An id the file defines is left to the store, which refuses it with
	// clientreg.ErrReserved naming the file.
	checkClient := func(c clientreg.Client) error {
		if slices.ContainsFunc(cfg.Clients, func(x config.Client) bool { return x.ClientID == c.ClientID }) {
			return nil
		}
		return signet.CheckStoredClient(merged(), c, time.Now())
	}
	checkResource := func(r clientreg.Resource) error {
		if slices.ContainsFunc(cfg.APIResources, func(x config.APIResource) bool { return x.Name == r.Name }) {
			return nil
		}
		return signet.CheckStoredResource(merged(), r, time.Now())
	}
	var verifier *adminauth.Verifier
	if cfg.AdminAPI.Enabled {
		var err error
		if verifier, err = adminauth.NewVerifier(cfg.Issuer, m, nil); err != nil {
			return err
		}
		h, err := adminapi.New(adminapi.Config{
			Store:         store,
			Verifier:      verifier,
			Keys:          m.Keys,
			CheckClient:   checkClient,
			CheckResource: checkResource,
			Logger:        log,
		})
		if err != nil {
			return err
		}
		sc.AdminAPI, sc.AdminAPIPublic = h, cfg.AdminListen == ""
	}
	if cfg.DynamicRegistration.Enabled {
		sc.Registration = &server.Registration{Policy: cfg.DynamicRegistration.Policy, Store: store, InitialAccessTokens: verifier, Check: checkClient}
	}
	return nil
}
