package granttest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// Batcher exposes a store's batching of concurrent claims to
// ClaimsBatched: Hold and Release take and give back the slot whoever
// sends a batch holds (a batch in progress), Queued is how many claims
// wait, Batches how many statements or transactions were sent so far.
type Batcher struct {
	Hold, Release func()
	Queued        func() int
	Batches       func() int64
}

// ClaimsBatched checks that 32 concurrent grant.UseOnce calls on s that
// queue while a batch is in progress are answered only after the next
// batches, which are at most want: a taken id is refused alone, and of two
// claims of one id exactly one succeeds.
func ClaimsBatched(t *testing.T, s grant.Store, b Batcher, want int64) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	exp := now.Add(time.Minute)
	if err := grant.UseOnce(ctx, s, "taken", now, exp); err != nil {
		t.Fatal(err)
	}
	const n = 32
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("jti-%d", i)
	}
	ids[7] = "taken"
	ids[9] = ids[3] // two claims of one id in the queue
	b.Hold()
	before := b.Batches()
	errs := make([]error, n)
	var answered atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = grant.UseOnce(ctx, s, ids[i], now, exp)
			answered.Add(1)
		})
	}
	for b.Queued() < n {
		time.Sleep(time.Millisecond)
	}
	if a := answered.Load(); a != 0 {
		t.Fatalf("%d claims answered before any batch", a)
	}
	b.Release()
	wg.Wait()
	if c := b.Batches() - before; c > want {
		t.Fatalf("%d concurrent claims (one id twice) made %d batches, want at most %d", n, c, want)
	}
	for i, err := range errs {
		switch i {
		case 7:
			if !errors.Is(err, grant.ErrReplayed) {
				t.Errorf("claim of the taken id: %v, want ErrReplayed", err)
			}
		case 3, 9:
		default:
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
			if g, err := s.Grant(ctx, ids[i]); err != nil || g.Kind != grant.KindJTI || !g.Expires.Equal(exp.UTC().Truncate(time.Microsecond)) {
				t.Errorf("claim %d stored %+v, %v", i, g, err)
			}
		}
	}
	if (errs[3] == nil) == (errs[9] == nil) {
		t.Errorf("two claims of one id: %v and %v, want exactly one success", errs[3], errs[9])
	}
	for _, err := range []error{errs[3], errs[9]} {
		if err != nil && !errors.Is(err, grant.ErrReplayed) {
			t.Errorf("the losing claim of one id: %v, want ErrReplayed", err)
		}
	}
}
