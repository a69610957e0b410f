package signet

import (
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/throttle"
)

// AttemptStore returns where the failed-attempt budgets are counted: the
// PostgreSQL store's shared table, so they hold across instances; nil
// (the server counts in memory) for the single-host stores.
func AttemptStore(cfg *config.Config, store keystore.Store) throttle.Store {
	if cfg.Storage.Driver != config.DriverPostgres {
		return nil
	}
	if a, ok := store.(throttle.Store); ok {
		return a
	}
	return nil
}
