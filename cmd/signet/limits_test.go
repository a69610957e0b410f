package main

import (
	"testing"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore/memstore"
)

// TestAttemptStore: only the PostgreSQL store counts attempts outside the
// process (its instances share the counts); the others count in memory.
func TestAttemptStore(t *testing.T) {
	for _, d := range []config.Driver{config.DriverMemory, config.DriverSQLite, config.DriverFile} {
		cfg := &config.Config{Storage: config.Storage{Driver: d}}
		if a := signet.AttemptStore(cfg, memstore.New()); a != nil {
			t.Errorf("%s: attempts counted in %T, want in memory", d, a)
		}
	}
}
