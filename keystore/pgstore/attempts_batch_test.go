package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/throttle"
)

// threeStores opens three stores (three instances) on one new schema.
func threeStores(t *testing.T) []*Store {
	t.Helper()
	_, dsn := newSchema(t)
	var stores []*Store
	for range 3 {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	return stores
}

// attemptCount returns key's stored count, -1 when it has no row.
func attemptCount(t *testing.T, s *Store, key string) int {
	t.Helper()
	var n int
	err := s.pool.QueryRow(context.Background(), `SELECT count FROM attempts WHERE key = $1`, key).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTakeAttemptsBatch: the keys of one attempt are taken in one
// statement, in order, stopping at a spent key (which reports its wait)
// and leaving later keys untouched; settling resets or gives back each
// key in one statement; a failed statement takes nothing.
func TestTakeAttemptsBatch(t *testing.T) {
	stores := threeStores(t)
	a := stores[0]
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	takes := []throttle.Take{{Key: "addr", Max: 30, Window: time.Minute}, {Key: "pair", Max: 2, Window: time.Minute}, {Key: "user", Max: 100, Window: time.Minute}}
	for i := range 2 {
		if n, w, err := stores[i].TakeAttempts(ctx, takes, now.Add(time.Duration(i)*time.Second)); n != 3 || w != 0 || err != nil {
			t.Fatalf("attempt %d: took %d, wait %v, %v; want all 3", i, n, w, err)
		}
	}
	if n, w, err := stores[2].TakeAttempts(ctx, takes, now.Add(10*time.Second)); n != 1 || w != 50*time.Second || err != nil {
		t.Fatalf("third attempt, pair spent: took %d, wait %v, %v; want 1 taken and a wait of 50s", n, w, err)
	}
	if c := [3]int{attemptCount(t, a, "addr"), attemptCount(t, a, "pair"), attemptCount(t, a, "user")}; c != [3]int{3, 2, 2} {
		t.Fatalf("counts after a refusal at pair: %v, want [3 2 2]", c)
	}
	after := []throttle.Take{{Key: "addr2", Max: 30, Window: time.Minute}, {Key: "pair", Max: 2, Window: time.Minute}, {Key: "fresh", Max: 100, Window: time.Minute}}
	if n, _, _ := a.TakeAttempts(ctx, after, now.Add(10*time.Second)); n != 1 || attemptCount(t, a, "fresh") != -1 {
		t.Fatalf("a key after a spent one: took %d, its row %d; want 1 taken and no row", n, attemptCount(t, a, "fresh"))
	}

	if err := a.SettleAttempts(ctx, []throttle.Settle{{Key: "addr"}, {Key: "pair", Reset: true}, {Key: "user"}}, now.Add(11*time.Second)); err != nil {
		t.Fatal(err)
	}
	if c := [3]int{attemptCount(t, a, "addr"), attemptCount(t, a, "pair"), attemptCount(t, a, "user")}; c != [3]int{2, -1, 1} {
		t.Fatalf("counts after settling (give back, reset, give back): %v, want [2 -1 1]", c)
	}
	// A window that has ended gets nothing back, and starts again.
	if err := a.SettleAttempts(ctx, []throttle.Settle{{Key: "addr"}, {Key: "user"}}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c := attemptCount(t, a, "addr"); c != 2 {
		t.Fatalf("a give-back after the window ended changed the count to %d", c)
	}
	if n, _, err := a.TakeAttempts(ctx, takes, now.Add(time.Minute)); n != 3 || err != nil || attemptCount(t, a, "addr") != 1 {
		t.Fatalf("after the window: took %d (%v), addr counts %d; want a new window", n, err, attemptCount(t, a, "addr"))
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n, _, err := a.TakeAttempts(cancelled, []throttle.Take{{Key: "gone", Max: 5, Window: time.Minute}, {Key: "gone2", Max: 5, Window: time.Minute}}, now); err == nil || n != 0 {
		t.Fatalf("a cancelled take: %d, %v", n, err)
	}
	if attemptCount(t, a, "gone") != -1 {
		t.Fatal("a failed take left a row")
	}
}

// TestTakeAttemptsBatchConcurrent: 90 attempts over three instances draw
// on a budget of 7 shared by all of them: exactly 7 are taken on every
// key; the key after the spent one counts exactly those 7, and each
// attempt's own first key counts it. Meanwhile attempts on overlapping
// keys are taken and settled over three instances while the cleaner
// deletes ended windows, and no statement fails: neither deadlocks (it
// did while the cleaner waited for rows an attempt held).
func TestTakeAttemptsBatchConcurrent(t *testing.T) {
	stores := threeStores(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var got atomic.Int64
	var wg sync.WaitGroup
	for i := range 90 {
		wg.Go(func() {
			takes := []throttle.Take{{Key: fmt.Sprint("addr", i), Max: 30, Window: time.Minute},
				{Key: "burst", Max: 7, Window: time.Minute}, {Key: "burst-user", Max: 1000, Window: time.Minute}}
			n, w, err := stores[i%3].TakeAttempts(ctx, takes, now)
			switch {
			case err != nil:
				t.Error(err)
			case n == 3 && w == 0:
				got.Add(1)
			case n != 1 || w != time.Minute:
				t.Errorf("attempt %d: took %d, wait %v; want all or the first with a wait of 1m", i, n, w)
			}
		})
	}
	wg.Wait()
	a := stores[0]
	if got.Load() != 7 || attemptCount(t, a, "burst") != 7 || attemptCount(t, a, "burst-user") != 7 {
		t.Fatalf("%d attempts taken across three instances (burst counts %d, burst-user %d); budget 7",
			got.Load(), attemptCount(t, a, "burst"), attemptCount(t, a, "burst-user"))
	}
	for i := range 90 {
		if c := attemptCount(t, a, fmt.Sprint("addr", i)); c != 1 {
			t.Fatalf("addr%d counts %d, want 1", i, c)
		}
	}

	// Overlapping attempts in the throttle's order of kinds (address,
	// pair, user), windows of a second moving with the clock, and the
	// cleaner deleting the ended ones.
	var failed atomic.Int64
	done := make(chan struct{})
	var cleaner sync.WaitGroup
	cleaner.Go(func() {
		for j := 0; ; j++ {
			select {
			case <-done:
				return
			default:
			}
			if _, err := stores[j%3].DeleteExpiredAttempts(ctx, now.Add(time.Duration(j%20)*time.Second)); err != nil {
				failed.Add(1)
				t.Errorf("cleaner: %v", err)
			}
		}
	})
	for i := range 30 {
		wg.Go(func() {
			s := stores[i%3]
			for j := range 20 {
				at := now.Add(time.Duration(j) * time.Second)
				addr, user := fmt.Sprint("a", i%3), fmt.Sprint("u", i%2)
				takes := []throttle.Take{{Key: addr, Max: 1000, Window: time.Second},
					{Key: addr + user, Max: 1000, Window: time.Second}, {Key: user, Max: 1000, Window: time.Second}}
				n, _, err := s.TakeAttempts(ctx, takes, at)
				if err != nil || n != 3 {
					failed.Add(1)
					t.Errorf("take %d/%d: %d, %v", i, j, n, err)
					continue
				}
				if err := s.SettleAttempts(ctx, []throttle.Settle{{Key: addr}, {Key: addr + user, Reset: j%2 == 0}, {Key: user}}, at); err != nil {
					failed.Add(1)
					t.Errorf("settle %d/%d: %v", i, j, err)
				}
			}
		})
	}
	wg.Wait()
	close(done)
	cleaner.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d takes, settles or cleanings failed", failed.Load())
	}
}
