package main

import (
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/throttle"
)

// serverLimits maps limits: to the server's budgets.
func serverLimits(cfg *config.Config) server.Limits {
	l := cfg.Limits
	return server.Limits{
		LoginPerUserAndAddress:    l.LoginPerUserAndAddress,
		LoginPerAddress:           l.LoginPerAddress,
		LoginPerUser:              l.LoginPerUser,
		ClientPerClientAndAddress: l.ClientPerClientAndAddress,
		ClientPerAddress:          l.ClientPerAddress,
		ClientPerClient:           l.ClientPerClient,
		PasswordHashingMemoryKiB:  l.PasswordHashingMemoryKiB,
		PasswordHashingQueue:      l.PasswordHashingQueue,
		TrackedKeys:               l.TrackedKeys,
	}
}

// attemptStore returns where the failed-attempt budgets are counted: the
// PostgreSQL store's shared table, so they hold across instances; nil
// (the server counts in memory) for the single-host stores.
func attemptStore(cfg *config.Config, store keystore.Store) throttle.Store {
	if cfg.Storage.Driver != config.DriverPostgres {
		return nil
	}
	if a, ok := store.(throttle.Store); ok {
		return a
	}
	return nil
}
