package main

import (
	"context"
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
// rules against the configuration in use (the last reload's) before
// storing it. Admin and
// initial access tokens are verified against the key set the JWKS
// endpoint publishes (the key manager's).
func addAdminFeatures(sc *server.Config, cfg *config.Config, m *keymanager.Manager, registry *serveRegistry, log *slog.Logger) error {
	if !cfg.AdminAPI.Enabled && !cfg.DynamicRegistration.Enabled {
		return nil
	}
	if registry.sync == nil {
		return errors.New("adminAPI and dynamicRegistration need a store that keeps clients (storage.driver sqlite, postgres or memory)")
	}
	// The file in use, which a reload (SIGHUP) replaces: its ids are
	// reserved and its rules checked, not those of the start's.
	file := func() *config.Config {
		if f := registry.sync.File(); f != nil {
			return f
		}
		return cfg
	}
	store := clientreg.ReserveFunc(registry.sync.Registry, func() clientreg.Reserved { return signet.FileIDs(file()) })
	check := func(ctx context.Context, kind, id string, put any) error {
		return checkRegistryChange(ctx, file(), registry.sync.Registry, kind, id, put)
	}
	var verifier *adminauth.Verifier
	if cfg.AdminAPI.Enabled {
		var err error
		if verifier, err = adminauth.NewVerifier(cfg.Issuer, m, nil); err != nil {
			return err
		}
		h, err := adminapi.New(adminapi.Config{
			Store:    store,
			Verifier: verifier,
			Keys:     m.Keys,
			Check:    check,
			Logger:   log,
		})
		if err != nil {
			return err
		}
		sc.AdminAPI, sc.AdminAPIPublic = h, cfg.AdminListen == ""
	}
	if cfg.DynamicRegistration.Enabled {
		sc.Registration = &server.Registration{Policy: cfg.DynamicRegistration.Policy, Store: store, InitialAccessTokens: verifier,
			Check: func(ctx context.Context, c clientreg.Client) error {
				return check(ctx, clientreg.KindClient, c.ClientID, c)
			}}
	}
	return nil
}

// checkRegistryChange is signet.CheckChange for the admin API and
// registration: put is the clientreg.Client or Resource written, nil for
// a delete. An id the file defines is left to the store, which refuses it
// with clientreg.ErrReserved naming the file.
func checkRegistryChange(ctx context.Context, cfg *config.Config, reg clientreg.Store, kind, id string, put any) error {
	entry, edit := config.EntryClient, signet.RemoveClient(id)
	if kind == clientreg.KindResource {
		entry, edit = config.EntryAPIResource, signet.RemoveResource(id)
		if slices.ContainsFunc(cfg.APIResources, func(x config.APIResource) bool { return x.Name == id }) {
			return nil
		}
	} else if slices.ContainsFunc(cfg.Clients, func(x config.Client) bool { return x.ClientID == id }) {
		return nil
	}
	switch x := put.(type) {
	case clientreg.Client:
		edit = signet.PutClient(x)
	case clientreg.Resource:
		edit = signet.PutResource(x)
	}
	return signet.CheckChange(ctx, cfg, reg, time.Now(), entry, id, edit)
}
