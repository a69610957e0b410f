package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/internal/pgtest"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

// TestKillDuringKeyCreation kills (SIGKILL) an instance starting against
// an empty schema, in a loop, and checks the store after each kill: it
// passes CheckConsistency, its lock is free, and a key manager starts over
// it, creates what is missing and is ready, with one key per algorithm.
//
// Five algorithms are configured. Start-up takes about a tenth of a
// second and the keys are written one transaction each, in a burst of a
// few milliseconds under the store lock, so the kills are aimed three
// ways (each iteration draws its moment from its own tenth of a window):
//
//   - start-up: 0-300 ms after the process starts: during the migration,
//     the key generation or after;
//   - lock: the test holds the store lock until the instance waits for it
//     with its keys generated, releases it and kills the instance 0-30 ms
//     later: while it re-reads the store and writes;
//   - writes: as lock, but 0-10 ms after the instance logs its first
//     stored key: between and inside the other keys' transactions.
func TestKillDuringKeyCreation(t *testing.T) {
	server := needCluster(t)
	const iterations = 10
	algs := []key.Algorithm{key.ES256, key.EdDSA, key.ES384, key.ES512, key.RS256}
	c := clusterConfig{Algorithms: algs, RSAKeySize: 2048}
	cfg := writeConfig(t, c)
	sealer := testSealer(t)
	for _, mode := range []struct {
		name     string
		window   time.Duration
		atLock   bool // hold the lock until the instance waits for it
		atWrites bool // then wait for its first stored key
	}{
		{"start-up", 300 * time.Millisecond, false, false},
		{"lock", 30 * time.Millisecond, true, false},
		{"writes", 10 * time.Millisecond, true, true},
	} {
		found := make([]int, iterations) // keys in the store after each kill
		for i := range iterations {
			delay := time.Duration((float64(i) + rand.Float64()) / iterations * float64(mode.window))
			t.Run(fmt.Sprintf("%s-%02d-%v", mode.name, i+1, delay.Round(100*time.Microsecond)), func(t *testing.T) {
				schema, dsn := newSchema(t)
				ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
				defer cancel()
				in := newInstance(t, "victim", cfg, pgtest.WithParams(t, dsn, "pool_max_conns", "3"))
				from := func() time.Time { return in.started }
				if mode.atLock {
					unlock, err := openStore(t, dsn).Lock(ctx) // migrates the schema first
					if err != nil {
						t.Fatal(err)
					}
					release := sync.OnceValue(unlock)
					t.Cleanup(func() { release() }) // before the store closes
					if err := in.start(); err != nil {
						t.Fatal(err)
					}
					waitForLockWaiter(t, ctx, server, schema, in)
					if err := release(); err != nil {
						t.Fatal(err)
					}
					at := time.Now()
					if mode.atWrites {
						if !waitFor(30*time.Second, 100*time.Microsecond, func() bool {
							return strings.Contains(in.logs.String(), `"msg":"key created"`) || in.hasExited()
						}) {
							t.Fatal("the instance stored no key within 30s of the lock's release")
						}
						at = time.Now()
					}
					from = func() time.Time { return at }
				} else if err := in.start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Until(from().Add(delay)))
				if in.hasExited() {
					t.Fatalf("the instance exited by itself: %v", in.cmd.ProcessState)
				}
				in.kill()

				store := openStore(t, dsn) // migrates the schema if the kill came first
				recs, err := store.Keys(ctx)
				if err != nil {
					t.Fatal(err)
				}
				found[i] = len(recs)
				if err := CheckConsistency(ctx, store, sealer); err != nil {
					t.Fatalf("after a kill %v into %s: %v", delay, mode.name, err)
				}
				// The killed instance's lock ended with its session.
				lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
				unlock, err := store.Lock(lctx)
				lcancel()
				if err != nil {
					t.Fatalf("the store lock is still held after the kill: %v", err)
				}
				if err := unlock(); err != nil {
					t.Fatal(err)
				}
				// The next instance finishes what the killed one began.
				m, err := keymanager.New(keymanager.Config{Options: c.options(), Store: store, Sealer: sealer})
				if err != nil {
					t.Fatal(err)
				}
				if err := m.Start(ctx); err != nil {
					t.Fatal(err)
				}
				if err := m.Ready(); err != nil {
					t.Fatalf("a key manager over the store after the kill is not ready: %v", err)
				}
				if err := CheckConsistency(ctx, store, sealer); err != nil {
					t.Fatal(err)
				}
				wantOneKeyPerAlgorithm(t, store, algs)
			})
		}
		t.Logf("kills during %s left these numbers of keys (of %d): %v", mode.name, len(algs), found)
	}
}

// waitForLockWaiter waits until a session of the schema's application
// waits for an advisory lock: the instance generated its keys and wants
// the store lock to write them.
func waitForLockWaiter(t *testing.T, ctx context.Context, server, schema string, in *instance) {
	t.Helper()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if !waitFor(30*time.Second, 2*time.Millisecond, func() bool {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`, schema).Scan(&n)
		return (err == nil && n > 0) || in.hasExited()
	}) || in.hasExited() {
		t.Fatalf("the instance did not wait for the store lock within 30s (exited: %v)", in.hasExited())
	}
}
