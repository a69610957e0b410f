package main

import (
	"testing"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/throttle"
)

// TestServerLimits: every limit of the configuration reaches the server,
// and only the PostgreSQL store counts attempts outside the process.
func TestServerLimits(t *testing.T) {
	cfg := &config.Config{Limits: config.DefaultLimits(), Storage: config.Storage{Driver: config.DriverMemory}}
	cfg.Limits.LoginPerUser = throttle.Limit{Max: 7, Window: 3}
	cfg.Limits.PasswordHashingQueue = 9
	l := serverLimits(cfg)
	if l.LoginPerUser != cfg.Limits.LoginPerUser || l.PasswordHashingQueue != 9 || l.PasswordHashingMemoryKiB != cfg.Limits.PasswordHashingMemoryKiB ||
		l.ClientPerClient != cfg.Limits.ClientPerClient || l.TrackedKeys != cfg.Limits.TrackedKeys {
		t.Fatalf("server limits %+v from %+v", l, cfg.Limits)
	}
	if a := attemptStore(cfg, memstore.New()); a != nil {
		t.Fatalf("the memory store counts attempts outside the process: %T", a)
	}
}
