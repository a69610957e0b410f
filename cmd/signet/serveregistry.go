package main

import (
	"context"
	"log/slog"

	signet "github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/server"
)

// serveRegistry is the client registry of a running server: nil sync for
// a store that keeps none (the file store).
type serveRegistry struct {
	sync  *signet.RegistrySync
	first *config.Config // the merge at start
}

// startRegistry reads the client registry of store and merges it with
// the file's clients. A registry that cannot be read is logged; the
// server starts with the file's clients and picks the stored ones up when
// the registry answers.
func startRegistry(ctx context.Context, cfg *config.Config, store keystore.Store, log *slog.Logger) *serveRegistry {
	reg := signet.ClientRegistry(store)
	if reg == nil {
		return &serveRegistry{}
	}
	s := &signet.RegistrySync{Registry: reg, Logger: log}
	merged, err := s.Reload(ctx, cfg)
	if err != nil {
		log.Error("the client registry cannot be read; serving the clients of the configuration file until it answers", "error", err)
	}
	return &serveRegistry{sync: s, first: merged}
}

// merged returns the clients to start with: the file's and the stored.
func (r *serveRegistry) merged(cfg *config.Config) *config.Config {
	if r.first != nil {
		return r.first
	}
	return cfg
}

// serve makes later merges swap the clients of srv.
func (r *serveRegistry) serve(srv *server.Server) {
	if r.sync == nil {
		return
	}
	r.sync.Apply = func(c *config.Config) error {
		clients, resources := signet.ServerClients(c)
		return srv.SetClients(clients, resources)
	}
}
