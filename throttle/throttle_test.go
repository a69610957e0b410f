package throttle

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestHashingBoundsMemoryInFlight(t *testing.T) {
	h := NewHashing(256, 1000)
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			release, err := h.Acquire(context.Background(), 64)
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(64)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inFlight.Add(-64)
			release()
			release() // twice is harmless
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 256 || p < 64 {
		t.Fatalf("peak memory in flight %d KiB, budget 256", p)
	}
}

func TestHashingLargerThanBudgetRunsAlone(t *testing.T) {
	h := NewHashing(100, 10)
	release, err := h.Acquire(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second hash ran beside one larger than the budget: %v", err)
	}
	release()
	r2, err := h.Acquire(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r2()
}

func TestHashingEndedContextNeverHashes(t *testing.T) {
	h := NewHashing(100, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Acquire(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire on an ended context: %v", err)
	}
	// A waiter whose context ends gives up its place.
	hold, _ := h.Acquire(context.Background(), 100)
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := h.Acquire(ctx, 10)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter: %v", err)
	}
	hold()
	if h.waiting.Load() != 0 {
		t.Fatalf("%d still waiting", h.waiting.Load())
	}
}

func TestHashingQueueFullIsFast(t *testing.T) {
	h := NewHashing(64, 2)
	hold, _ := h.Acquire(context.Background(), 64)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { h.Acquire(ctx, 64) })
	}
	for h.waiting.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	if _, err := h.Acquire(context.Background(), 64); !errors.Is(err, ErrBusy) {
		t.Fatalf("third waiter with a queue of 2: %v", err)
	}
	cancel()
	wg.Wait()
	hold()
}

func TestMemoryWindows(t *testing.T) {
	m := NewMemory(10)
	ctx := context.Background()
	for i := range 3 {
		if w, err := m.TakeAttempt(ctx, "k", 3, time.Minute, t0.Add(time.Duration(i)*time.Second)); w != 0 || err != nil {
			t.Fatalf("attempt %d: %v %v", i, w, err)
		}
	}
	if w, _ := m.TakeAttempt(ctx, "k", 3, time.Minute, t0.Add(10*time.Second)); w != 50*time.Second {
		t.Fatalf("fourth attempt waits %v, want 50s", w)
	}
	m.ReturnAttempt(ctx, "k", t0.Add(11*time.Second))
	if w, _ := m.TakeAttempt(ctx, "k", 3, time.Minute, t0.Add(12*time.Second)); w != 0 {
		t.Fatal("a returned attempt was not available")
	}
	if w, _ := m.TakeAttempt(ctx, "k", 3, time.Minute, t0.Add(time.Minute)); w != 0 {
		t.Fatal("a new window did not start")
	}
	m.ResetAttempts(ctx, "k")
	if m.Len() != 0 {
		t.Fatal("reset kept the key")
	}
}

// TestMemorySprayKeepsLockouts: a spray of distinct keys never releases a
// live lockout; once the table is full of live keys, new keys are refused
// and memory stays bounded. Expired keys make room again.
func TestMemorySprayKeepsLockouts(t *testing.T) {
	const cap = 1000
	m := NewMemory(cap)
	l := NewLimiter(m, func() time.Time { return t0 })
	ctx := context.Background()
	lock := Key{Name: "u:alice", Limit: Limit{Max: 5, Window: 15 * time.Minute}}
	for range 5 {
		r, _, _ := l.Reserve(ctx, lock)
		r.Failed()
	}
	refused := 0
	for i := range 25 * cap {
		r, wait, err := l.Reserve(ctx, Key{Name: fmt.Sprintf("u:junk%d", i), Limit: Limit{Max: 5, Window: 15 * time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			if wait <= 0 {
				t.Fatal("refused without a wait")
			}
			refused++
		}
	}
	if m.Len() > cap {
		t.Fatalf("%d keys tracked, cap %d", m.Len(), cap)
	}
	if refused != 25*cap-(cap-1) {
		t.Fatalf("%d new keys refused, want %d", refused, 25*cap-(cap-1))
	}
	if r, wait, _ := l.Reserve(ctx, lock); r != nil || wait != 15*time.Minute {
		t.Fatalf("the spray released alice's lockout: %v %v", r, wait)
	}
	// After the windows end, new keys are tracked again.
	l.now = func() time.Time { return t0.Add(15 * time.Minute) }
	if r, _, _ := l.Reserve(ctx, Key{Name: "u:new", Limit: Limit{Max: 5, Window: time.Minute}}); r == nil {
		t.Fatal("expired keys did not make room")
	}
}

// TestReserveCountsInFlight: N concurrent attempts on a budget of 5 get
// exactly 5 reservations, however they interleave.
func TestReserveCountsInFlight(t *testing.T) {
	l := NewLimiter(NewMemory(0), func() time.Time { return t0 })
	keys := []Key{{Name: "pair", Limit: Limit{5, time.Minute}, ResetOnSuccess: true}, {Name: "addr", Limit: Limit{30, time.Minute}}}
	var got atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			r, _, err := l.Reserve(context.Background(), keys...)
			if err != nil {
				t.Error(err)
			}
			if r != nil {
				got.Add(1)
				time.Sleep(time.Millisecond) // "hashing"
				r.Failed()
			}
		})
	}
	wg.Wait()
	if got.Load() != 5 {
		t.Fatalf("%d attempts reserved, budget 5", got.Load())
	}
	// The refused ones gave back their address attempt.
	m := l.store.(*Memory)
	if c := m.entries[storeKey("addr")]; c.n != 5 {
		t.Fatalf("address counts %d, want 5", c.n)
	}
}

func TestReservationEnds(t *testing.T) {
	m := NewMemory(0)
	l := NewLimiter(m, func() time.Time { return t0 })
	ctx := context.Background()
	pair := Key{Name: "pair", Limit: Limit{2, time.Minute}, ResetOnSuccess: true}
	addr := Key{Name: "addr", Limit: Limit{10, time.Minute}}
	r, _, _ := l.Reserve(ctx, pair, addr)
	r.Failed()
	r, _, _ = l.Reserve(ctx, pair, addr)
	r.Succeeded(ctx)
	if _, ok := m.entries[storeKey("pair")]; ok {
		t.Fatal("success did not reset the pair")
	}
	if c := m.entries[storeKey("addr")]; c.n != 1 {
		t.Fatalf("address counts %d after a failure and a success, want 1", c.n)
	}
	r, _, _ = l.Reserve(ctx, pair, addr)
	r.Cancel(ctx)
	if c := m.entries[storeKey("addr")]; c.n != 1 || m.entries[storeKey("pair")].n != 0 {
		t.Fatal("cancel kept the attempt")
	}
	if err := (Limit{0, time.Minute}).Validate("x"); err == nil {
		t.Fatal("a zero limit is valid")
	}
}

type countingExpirer struct{ calls chan time.Time }

func (c *countingExpirer) DeleteExpiredAttempts(_ context.Context, now time.Time) (int64, error) {
	select {
	case c.calls <- now:
	default: // the test has read enough
	}
	return 1, nil
}

func TestSweeperRunsUntilCancelled(t *testing.T) {
	e := &countingExpirer{calls: make(chan time.Time, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- (&Sweeper{Store: e, Interval: time.Millisecond, Now: func() time.Time { return t0 }}).Run(ctx)
	}()
	for range 3 {
		if got := <-e.calls; !got.Equal(t0) {
			t.Fatalf("swept at %v", got)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

// BenchmarkMemoryTableFull fills a Memory store to its default size with
// keys as the Limiter stores them and reports the heap it holds per key,
// then measures a refused new key (the spray's cost once full).
func BenchmarkMemoryTableFull(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := NewMemory(DefaultTrackedKeys)
	ctx := context.Background()
	for i := range DefaultTrackedKeys {
		m.TakeAttempt(ctx, storeKey("login:u:user"+strconv.Itoa(i)), 5, 15*time.Minute, t0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := float64(after.HeapAlloc - before.HeapAlloc)
	i := 0
	for b.Loop() {
		i++
		if w, err := m.TakeAttempt(ctx, storeKey("spray"+strconv.Itoa(i)), 5, time.Minute, t0.Add(time.Second)); w == 0 || err == nil {
			b.Fatal("a full table took a new key")
		}
	}
	runtime.KeepAlive(m)
	b.ReportMetric(held/DefaultTrackedKeys, "heap-B/key")
	b.ReportMetric(held/(1<<20), "table-MiB")
}
