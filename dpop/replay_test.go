package dpop

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestMemoryReplay(t *testing.T) {
	now := t0
	m, err := NewMemoryReplay(2, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.UseOnce(ctx, "a", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := m.UseOnce(ctx, "a", now.Add(time.Minute)); !errors.Is(err, ErrReplayed) || !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("replay: %v", err)
	}
	if err := m.UseOnce(ctx, "b", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Full: refused, not accepted unrecorded.
	if err := m.UseOnce(ctx, "c", now.Add(time.Minute)); !errors.Is(err, ErrReplayFull) {
		t.Fatalf("full: %v", err)
	}
	// After a's expiry it is forgotten and there is room again.
	now = now.Add(time.Minute)
	if err := m.UseOnce(ctx, "c", now.Add(time.Minute)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if err := m.UseOnce(ctx, "b", now.Add(time.Minute)); !errors.Is(err, ErrReplayed) {
		t.Fatalf("b before its expiry: %v", err)
	}
	if m.Len() != 2 {
		t.Errorf("len %d", m.Len())
	}
	// Already expired: nothing to record.
	if err := m.UseOnce(ctx, "d", now); err != nil || m.Len() != 2 {
		t.Errorf("expired id: %v, len %d", err, m.Len())
	}
	if _, err := NewMemoryReplay(0, nil); err == nil {
		t.Error("size 0 accepted")
	}
}

// TestMemoryReplayConcurrent: of many concurrent uses of one id exactly
// one succeeds, and the bound holds under concurrency.
func TestMemoryReplayConcurrent(t *testing.T) {
	m, _ := NewMemoryReplay(100, fixedClock(t0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	for i := range 400 {
		wg.Go(func() {
			err := m.UseOnce(context.Background(), fmt.Sprint(i%200), t0.Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrReplayFull):
				full++
			case !errors.Is(err, ErrReplayed):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 100 || m.Len() != 100 || full == 0 {
		t.Errorf("recorded %d (len %d), full %d; want 100 recorded", ok, m.Len(), full)
	}
}

type failingReplay struct{ err error }

func (f failingReplay) UseOnce(context.Context, string, time.Time) error { return f.err }

func TestMarkUsed(t *testing.T) {
	k := testKeys(t)["ES256"]
	p, err := newVerifier(t, Config{}).Verify(k.sign(k.header(), baseClaims()), tokenReq)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMemoryReplay(10, fixedClock(t0))
	if err := MarkUsed(context.Background(), m, p); err != nil {
		t.Fatal(err)
	}
	// The same proof again, and a second proof with the same key and jti.
	if err := MarkUsed(context.Background(), m, p); !errors.Is(err, ErrReplayed) || ErrorCode(err) != CodeInvalidProof {
		t.Fatalf("replay: %v", err)
	}
	// A store failure is no client error.
	down := errors.New("store down")
	err = MarkUsed(context.Background(), failingReplay{down}, p)
	if !errors.Is(err, down) || ErrorCode(err) != "" {
		t.Fatalf("store error: %v (code %q)", err, ErrorCode(err))
	}
	// The record lives as long as the proof is accepted.
	rec := &recordingReplay{}
	_ = MarkUsed(context.Background(), rec, p)
	if rec.id != p.ReplayID() || !rec.exp.Equal(t0.Add(DefaultWindow)) {
		t.Errorf("recorded %q until %s", rec.id, rec.exp)
	}
}

type recordingReplay struct {
	id  string
	exp time.Time
}

func (r *recordingReplay) UseOnce(_ context.Context, id string, exp time.Time) error {
	r.id, r.exp = id, exp
	return nil
}
