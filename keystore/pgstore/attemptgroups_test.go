package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/throttle"
)

// attemptRows sets the stored counts: key -> count, each window ending at
// ends[key] (a minute after now when not given).
func attemptRows(t *testing.T, s *Store, now time.Time, counts map[string]int, ends map[string]time.Time) {
	t.Helper()
	for k, n := range counts {
		end, ok := ends[k]
		if !ok {
			end = now.Add(time.Minute)
		}
		if _, err := s.pool.Exec(t.Context(), `INSERT INTO attempts (key, count, expires) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET count = EXCLUDED.count, expires = EXCLUDED.expires`, k, n, end); err != nil {
			t.Fatal(err)
		}
	}
}

// signInTakes are the takes of a sign-in of user from addr: the address
// (max addrMax), the user at the address (max 2), the user (max 3).
func signInTakes(addr, user string, addrMax int) []throttle.Take {
	return []throttle.Take{{Key: addr, Max: addrMax, Window: time.Minute},
		{Key: user + "@" + addr, Max: 2, Window: time.Minute}, {Key: user, Max: 3, Window: time.Minute}}
}

// A group's calls get the outcome each would have got one after the
// other, in arrival order, and leave the counts the calls in turn leave:
// each case runs the same calls on two stores set up alike, as one group
// on one and one call at a time on the other.
func TestAttemptGroupAsInTurn(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	users := []string{"u0", "u1", "u2", "u3", "u4"}
	cases := []struct {
		name   string
		max    int
		counts map[string]int
		ends   map[string]time.Time
	}{
		{"all fit; some users' keys spent", 10, map[string]int{"addr": 3, "u1@addr": 2, "u3": 3, "u4": 1}, nil},
		{"the address takes three of five", 10, map[string]int{"addr": 7, "u0@addr": 2}, nil},
		{"the address takes four of five", 10, map[string]int{"addr": 6, "u4": 3}, nil},
		{"the address is spent", 10, map[string]int{"addr": 10}, nil},
		{"the address's window has ended", 5, map[string]int{"addr": 5, "u2@addr": 2}, map[string]time.Time{"addr": now}},
		{"no rows yet", 5, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, dsnG := newSchema(t)
			_, dsnT := newSchema(t)
			grouped, inTurn := open(t, dsnG), open(t, dsnT)
			for _, s := range []*Store{grouped, inTurn} {
				attemptRows(t, s, now, tc.counts, tc.ends)
			}
			var group []*attemptCall
			for i, u := range users {
				group = append(group, &attemptCall{takes: signInTakes("addr", u, tc.max), now: now.Add(time.Duration(i) * time.Millisecond)})
			}
			grouped.takeGroup(t.Context(), group)
			at := latest(group)
			for i, c := range group {
				n, wait, err := inTurn.takeAttempts(t.Context(), c.takes, at)
				if c.err != nil || err != nil {
					t.Fatalf("caller %d: %v / %v", i, c.err, err)
				}
				// Waits are each caller's own, from its clock.
				if wait > 0 {
					wait += at.Sub(c.now)
				}
				if c.n != n || c.wait != wait {
					t.Errorf("caller %d: grouped took %d keys (wait %v), in turn %d (wait %v)", i, c.n, c.wait, n, wait)
				}
			}
			for _, k := range append([]string{"addr"}, keysOf(users)...) {
				if g, w := attemptCount(t, grouped, k), attemptCount(t, inTurn, k); g != w {
					t.Errorf("%s counts %d grouped, %d in turn", k, g, w)
				}
			}

			// Settled: the callers that took all three give back the
			// address's and the user's, and reset the user's at the address.
			var settles []*attemptCall
			for _, c := range group {
				if c.n == 3 {
					settles = append(settles, &attemptCall{now: at, settles: []throttle.Settle{{Key: c.takes[0].Key}, {Key: c.takes[1].Key, Reset: true}, {Key: c.takes[2].Key}}})
				}
			}
			if len(settles) == 0 {
				return
			}
			grouped.settleGroup(t.Context(), settles)
			for _, c := range settles {
				if c.err != nil {
					t.Fatal(c.err)
				}
				if err := inTurn.settleAttempts(t.Context(), c.settles, at); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range append([]string{"addr"}, keysOf(users)...) {
				if g, w := attemptCount(t, grouped, k), attemptCount(t, inTurn, k); g != w {
					t.Errorf("settled: %s counts %d grouped, %d in turn", k, g, w)
				}
			}
		})
	}
}

// keysOf returns the keys signInTakes uses for users besides the address.
func keysOf(users []string) []string {
	var keys []string
	for _, u := range users {
		keys = append(keys, u+"@addr", u)
	}
	return keys
}

// lockWaiters returns how many backends of app wait for a lock.
func lockWaiters(t *testing.T, app string) int {
	t.Helper()
	var n int
	if err := admin(t).QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// holdRow locks key's row of schema's attempts as another instance's
// statement would, until release.
func holdRow(t *testing.T, schema, key string) (release func()) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	tx, err := admin(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+schema+`.attempts WHERE key = $1 FOR UPDATE`, key); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A take waiting for its group leaves when its caller goes: it fails
// with the caller's error and takes nothing, and the others go on.
func TestAttemptGroupCallerGone(t *testing.T) {
	app, dsn := newSchema(t)
	s := open(t, dsn)
	now := time.Now()
	attemptRows(t, s, now, map[string]int{"addr": 0}, nil)
	release := holdRow(t, app, "addr")
	first := make(chan error, 1)
	go func() {
		_, _, err := s.TakeAttempts(t.Context(), signInTakes("addr", "u0", 100), now)
		first <- err
	}()
	for lockWaiters(t, app) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(t.Context())
	gone := make(chan error, 1)
	go func() {
		n, _, err := s.TakeAttempts(ctx, signInTakes("addr", "u1", 100), now)
		if err == nil {
			err = fmt.Errorf("took %d keys", n)
		}
		gone <- err
	}()
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("a take whose caller went: %v, want context.Canceled", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if c, u := attemptCount(t, s, "addr"), attemptCount(t, s, "u1@addr"); c != 1 || u != -1 {
		t.Fatalf("the address counts %d (want 1), the gone caller's key %d (want no row)", c, u)
	}
}

// Sixteen concurrent takes whose first key is one address are two
// statements, not sixteen: while the first waits for the address's row
// (another instance holds it), the other fifteen wait in the instance
// and are then taken in one statement. Each gets its three keys, and
// the address counts sixteen. On the old code each take was a statement
// of its own, sixteen backends waiting for one row lock.
func TestConcurrentTakesOfOneKeyGrouped(t *testing.T) {
	app, dsn := newSchema(t)
	var qc queryCounter
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = &qc; c.MaxConns = 16 }))
	now := time.Now()
	attemptRows(t, s, now, map[string]int{"addr": 0}, nil)
	ctx := t.Context()

	release := holdRow(t, app, "addr")

	before := qc.n.Load()
	var wg sync.WaitGroup
	var calling sync.WaitGroup
	var took atomic.Int64
	calling.Add(16)
	for i := range 16 {
		wg.Go(func() {
			calling.Done()
			n, wait, err := s.TakeAttempts(ctx, signInTakes("addr", fmt.Sprint("u", i), 100), now)
			if err != nil || n != 3 || wait != 0 {
				t.Errorf("take %d: %d keys, wait %v, %v; want all 3", i, n, wait, err)
				return
			}
			took.Add(1)
		})
	}
	calling.Wait()
	// Every take has been called; let the first reach the row's lock, and
	// on the old code every one of them (at most a second).
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if lockWaiters(t, app) == 16 {
			break
		}
	}
	if lockWaiters(t, app) == 0 {
		t.Fatal("no take waits for the address's row")
	}
	release()
	wg.Wait()
	if n := qc.n.Load() - before; n > 3 {
		t.Errorf("16 concurrent takes of one key made %d statements, want 2 (the first alone, then the rest grouped)", n)
	}
	if took.Load() != 16 || attemptCount(t, s, "addr") != 16 {
		t.Fatalf("%d takes got their keys, the address counts %d; want 16 and 16", took.Load(), attemptCount(t, s, "addr"))
	}
}

// Concurrent takes on one key at two instances never over-grant: 80
// sign-ins from one address, half at each store handle, draw on the
// address's budget of 7; exactly 7 get all their keys, the others none
// with a wait, and the address counts 7. Then the 7 settle at once and
// the address counts nothing.
func TestAttemptGroupsNeverOverGrant(t *testing.T) {
	_, dsn := newSchema(t)
	stores := []*Store{open(t, dsn), open(t, dsn)}
	now := time.Now()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		winner [][]throttle.Take
	)
	for i := range 80 {
		wg.Go(func() {
			takes := signInTakes("addr", fmt.Sprint("u", i), 7)
			n, wait, err := stores[i%2].TakeAttempts(t.Context(), takes, now)
			switch {
			case err != nil:
				t.Error(err)
			case n == 3 && wait == 0:
				mu.Lock()
				winner = append(winner, takes)
				mu.Unlock()
			case n != 0 || wait <= 0:
				t.Errorf("take %d: %d keys, wait %v; want all or none with a wait", i, n, wait)
			}
		})
	}
	wg.Wait()
	if len(winner) != 7 || attemptCount(t, stores[0], "addr") != 7 {
		t.Fatalf("%d sign-ins took the address's budget of 7 (it counts %d)", len(winner), attemptCount(t, stores[0], "addr"))
	}
	for i, takes := range winner {
		wg.Go(func() {
			err := stores[i%2].SettleAttempts(t.Context(), []throttle.Settle{{Key: takes[0].Key}, {Key: takes[1].Key, Reset: true}, {Key: takes[2].Key}}, now)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c := attemptCount(t, stores[0], "addr"); c != 0 {
		t.Fatalf("after 7 give-backs the address counts %d", c)
	}
	for _, takes := range winner {
		if c1, c2 := attemptCount(t, stores[0], takes[1].Key), attemptCount(t, stores[0], takes[2].Key); c1 != -1 || c2 != 0 {
			t.Fatalf("settled %s: the user at the address counts %d (want no row), the user %d (want 0)", takes[2].Key, c1, c2)
		}
	}
}

// Concurrent sign-ins of the same users from one address, at two
// instances: a group never holds one key twice (one statement could not
// count it twice), so every take succeeds as a statement, each user gets
// its budget at the address (2) exactly, and the address counts every
// take.
func TestAttemptGroupsKeepKeysApart(t *testing.T) {
	_, dsn := newSchema(t)
	stores := []*Store{open(t, dsn), open(t, dsn)}
	now := time.Now()
	var (
		wg  sync.WaitGroup
		all [4]atomic.Int64
	)
	for i := range 40 {
		wg.Go(func() {
			n, wait, err := stores[i%2].TakeAttempts(t.Context(), signInTakes("addr", fmt.Sprint("u", i%4), 100), now)
			switch {
			case err != nil:
				t.Error(err)
			case n == 3:
				all[i%4].Add(1)
			case n != 1 || wait <= 0:
				t.Errorf("take %d: %d keys, wait %v; want 3, or 1 and a wait", i, n, wait)
			}
		})
	}
	wg.Wait()
	for u := range all {
		if n, pair := all[u].Load(), attemptCount(t, stores[0], fmt.Sprint("u", u, "@addr")); n != 2 || pair != 2 {
			t.Errorf("u%d: %d sign-ins took all keys, its key at the address counts %d; want 2 and 2", u, n, pair)
		}
	}
	if c := attemptCount(t, stores[0], "addr"); c != 40 {
		t.Fatalf("the address counts %d, want 40", c)
	}
}
