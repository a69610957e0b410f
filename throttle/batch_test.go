package throttle

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// batchMemory is a BatchStore over a Memory that counts its calls, one
// call standing for one round trip to a database.
type batchMemory struct {
	*Memory
	calls, batchCalls atomic.Int64
}

func (b *batchMemory) TakeAttempt(ctx context.Context, key string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	b.calls.Add(1)
	return b.Memory.TakeAttempt(ctx, key, max, window, now)
}

func (b *batchMemory) ReturnAttempt(ctx context.Context, key string, now time.Time) error {
	b.calls.Add(1)
	return b.Memory.ReturnAttempt(ctx, key, now)
}

func (b *batchMemory) ResetAttempts(ctx context.Context, key string) error {
	b.calls.Add(1)
	return b.Memory.ResetAttempts(ctx, key)
}

func (b *batchMemory) TakeAttempts(ctx context.Context, takes []Take, now time.Time) (int, time.Duration, error) {
	b.batchCalls.Add(1)
	for i, t := range takes {
		if wait, err := b.Memory.TakeAttempt(ctx, t.Key, t.Max, t.Window, now); wait > 0 || err != nil {
			return i, wait, err
		}
	}
	return len(takes), 0, nil
}

func (b *batchMemory) SettleAttempts(ctx context.Context, settles []Settle, now time.Time) error {
	b.batchCalls.Add(1)
	for _, s := range settles {
		if s.Reset {
			b.Memory.ResetAttempts(ctx, s.Key)
		} else {
			b.Memory.ReturnAttempt(ctx, s.Key, now)
		}
	}
	return nil
}

// TestLimiterBatches: over a BatchStore, an attempt on three keys is one
// call to take and one to settle (a refusal: one to take, one to give
// back), with the counts of the one-key calls; keys that are stored alike
// fall back to one call per key.
func TestLimiterBatches(t *testing.T) {
	ctx := context.Background()
	st := &batchMemory{Memory: NewMemory(0)}
	l := NewLimiter(st, func() time.Time { return t0 })
	keys := []Key{{Name: "addr", Limit: Limit{30, time.Minute}},
		{Name: "pair", Limit: Limit{2, time.Minute}, ResetOnSuccess: true}, {Name: "user", Limit: Limit{100, time.Minute}}}
	calls := func() (int64, int64) { return st.calls.Load(), st.batchCalls.Load() }

	r, wait, err := l.Reserve(ctx, keys...)
	if r == nil || wait != 0 || err != nil {
		t.Fatalf("Reserve: %v %v %v", r, wait, err)
	}
	if err := r.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	if one, batch := calls(); one != 0 || batch != 2 {
		t.Fatalf("a successful attempt on 3 keys made %d one-key and %d batch calls, want 0 and 2", one, batch)
	}
	if st.Len() != 2 { // pair reset, the others at 0
		t.Fatalf("%d keys tracked after success, want 2", st.Len())
	}
	for range 2 {
		r, _, _ := l.Reserve(ctx, keys...)
		r.Failed()
	}
	r, wait, err = l.Reserve(ctx, keys...)
	if r != nil || wait != time.Minute || err != nil {
		t.Fatalf("third failure's Reserve: %v %v %v, want refused for 1m", r, wait, err)
	}
	// The refusal gave one key back: a one-key call.
	if one, batch := calls(); one != 1 || batch != 2+2+1 {
		t.Fatalf("after two failures and a refusal: %d one-key and %d batch calls, want 1 and 5", one, batch)
	}
	addr := st.entries[storeKey("addr")].n
	if user := st.entries[storeKey("user")].n; addr != 2 || user != 2 {
		t.Fatalf("after a refusal at pair: addr counts %d, user %d; want 2 and 2 (addr given back, user untouched)", addr, user)
	}

	// Two names stored alike: one call per key, each counted.
	dup := []Key{{Name: "same", Limit: Limit{5, time.Minute}}, {Name: "same", Limit: Limit{5, time.Minute}}}
	r, _, _ = l.Reserve(ctx, dup...)
	if n := st.entries[storeKey("same")].n; n != 2 {
		t.Fatalf("a key listed twice counts %d, want 2", n)
	}
	r.Cancel(ctx)
	if one, _ := calls(); one != 1+4 {
		t.Fatalf("a key listed twice made %d one-key calls, want 4", one-1)
	}
}
