package pgstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttempts: windows, give-back, reset and expiry of the shared
// counters, and atomicity across three stores (three instances) taking
// attempts concurrently.
func TestAttempts(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := context.Background()
	var stores []*Store
	for range 3 {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	a := stores[0]
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if w, err := a.TakeAttempt(ctx, "k", 3, time.Minute, now.Add(time.Duration(i)*time.Second)); w != 0 || err != nil {
			t.Fatalf("attempt %d: %v %v", i, w, err)
		}
	}
	if w, err := stores[1].TakeAttempt(ctx, "k", 3, time.Minute, now.Add(10*time.Second)); w != 50*time.Second || err != nil {
		t.Fatalf("fourth attempt at another instance: wait %v, %v; want 50s", w, err)
	}
	if err := stores[2].ReturnAttempt(ctx, "k", now.Add(11*time.Second)); err != nil {
		t.Fatal(err)
	}
	if w, _ := a.TakeAttempt(ctx, "k", 3, time.Minute, now.Add(12*time.Second)); w != 0 {
		t.Fatal("a returned attempt was not available")
	}
	if w, _ := a.TakeAttempt(ctx, "k", 3, time.Minute, now.Add(time.Minute)); w != 0 {
		t.Fatal("a new window did not start")
	}
	if err := a.ResetAttempts(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	a.TakeAttempt(ctx, "old", 3, time.Minute, now)
	if n, err := a.DeleteExpiredAttempts(ctx, now.Add(time.Minute)); n != 1 || err != nil {
		t.Fatalf("DeleteExpiredAttempts: %d %v", n, err)
	}

	// 90 concurrent takes over three instances on a budget of 7.
	var got atomic.Int64
	var wg sync.WaitGroup
	for i := range 90 {
		wg.Go(func() {
			w, err := stores[i%3].TakeAttempt(ctx, "burst", 7, time.Minute, now)
			if err != nil {
				t.Error(err)
			}
			if w == 0 {
				got.Add(1)
			}
		})
	}
	wg.Wait()
	if got.Load() != 7 {
		t.Fatalf("%d attempts taken across three instances, budget 7", got.Load())
	}
}
