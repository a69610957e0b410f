package pgstore

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/throttle"
)

// Counting an attempt (taking it, giving it back, resetting its key)
// commits with synchronous_commit off for that statement's transaction
// only: the commit does not wait for the WAL flush (a sign-in's attempt on
// its address's budget held that row's lock through two flushes). The
// connection keeps the server's setting for the next statement, and the
// count is at once what another instance sees: the budget holds across
// instances.
func TestAttemptsCommitWithoutFlush(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := t.Context()
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 }))
	other := open(t, dsn)
	now := time.Now()
	check := func(what string) {
		t.Helper()
		m := s.attemptCommitMode.Swap(nil)
		if m == nil || *m != "off" {
			t.Fatalf("%s committed with synchronous_commit %v, want off", what, m)
		}
		var after string
		if err := s.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&after); err != nil || after != "on" {
			t.Fatalf("after %s, the connection's synchronous_commit is %q (%v), want on: the setting leaked", what, after, err)
		}
	}
	takes := []throttle.Take{{Key: "addr", Max: 2, Window: time.Minute}, {Key: "user@addr", Max: 5, Window: time.Minute}, {Key: "user", Max: 5, Window: time.Minute}}
	for i := range 2 {
		if n, wait, err := s.TakeAttempts(ctx, takes, now); n != 3 || wait != 0 || err != nil {
			t.Fatalf("take %d: %d keys, wait %v, %v", i, n, wait, err)
		}
		check("taking attempts")
	}
	// The address's budget (2) is spent, also for another instance.
	if n, wait, err := other.TakeAttempts(ctx, takes, now); n != 0 || wait <= 0 || err != nil {
		t.Fatalf("a third attempt at another instance: %d keys taken, wait %v, %v; want none and a wait", n, wait, err)
	}
	if err := s.SettleAttempts(ctx, []throttle.Settle{{Key: "addr"}, {Key: "user@addr", Reset: true}, {Key: "user"}}, now); err != nil {
		t.Fatal(err)
	}
	check("settling attempts")
	if n, _, err := other.TakeAttempts(ctx, takes, now); n != 3 || err != nil {
		t.Fatalf("after a give-back, another instance took %d keys (%v), want 3", n, err)
	}
	if wait, err := s.TakeAttempt(ctx, "single", 3, time.Minute, now); wait != 0 || err != nil {
		t.Fatalf("take one key: %v %v", wait, err)
	}
	check("taking one key's attempt")
	if err := s.ReturnAttempt(ctx, "single", now); err != nil {
		t.Fatal(err)
	}
	check("giving one attempt back")
	if err := s.ResetAttempts(ctx, "single"); err != nil {
		t.Fatal(err)
	}
	check("resetting one key")
}
