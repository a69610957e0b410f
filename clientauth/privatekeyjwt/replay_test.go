package privatekeyjwt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestMemoryReplay: an id is refused until its exp, forgotten after, and
// the cache never holds more than its bound: when full of live ids it
// refuses rather than forgets one early.
func TestMemoryReplay(t *testing.T) {
	now := t0
	m := NewMemoryReplay(3, func() time.Time { return now })
	ctx := context.Background()
	use := func(id string, exp time.Duration) error { return m.UseOnce(ctx, id, now.Add(exp)) }
	if err := use("a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := use("a", time.Minute); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second use: %v", err)
	}
	if err := use("b", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := use("c", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := use("d", time.Minute); !errors.Is(err, ErrReplayFull) {
		t.Fatalf("full: %v", err)
	}
	if err := use("a", time.Minute); !errors.Is(err, ErrReplayed) {
		t.Fatalf("full, replay: %v", err)
	}
	now = now.Add(time.Minute) // a expires
	if err := use("a", time.Minute); err != nil {
		t.Fatalf("after exp: %v", err)
	}
	if err := use("b", time.Minute); !errors.Is(err, ErrReplayed) {
		t.Fatalf("b still live: %v", err)
	}
	if m.Len() != 3 {
		t.Fatalf("Len %d", m.Len())
	}
	now = now.Add(time.Hour)
	for i := range 3 {
		if err := use(fmt.Sprint("n", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 3 {
		t.Fatalf("Len %d after expiry", m.Len())
	}
	if err := m.UseOnce(ctx, "past", now.Add(-time.Second)); err != nil {
		t.Fatalf("already expired id: %v", err)
	}
}

// TestMemoryReplayConcurrent: concurrent uses of one id, one wins.
func TestMemoryReplayConcurrent(t *testing.T) {
	m := NewMemoryReplay(100, func() time.Time { return t0 })
	const n = 32
	errs := make(chan error, n)
	for range n {
		go func() { errs <- m.UseOnce(context.Background(), "x", t0.Add(time.Minute)) }()
	}
	ok := 0
	for range n {
		if <-errs == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d accepted", ok)
	}
}
