package keymanager

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
)

// TestRunRotatesOnTime runs the real loop on a fake clock (synctest) with
// second-long durations: every key must start signing within a second of
// its SignsFrom and stop within a second of its RetiresAt, and the
// relying party must never fail.
func TestRunRotatesOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := opts(key.ES256)
		o.RotationInterval, o.PropagationTime, o.RetentionDuration = 3*time.Second, time.Second, time.Second
		store := memstore.New()
		m := newManager(t, Config{Options: o, Store: store})
		start(t, m)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()

		rp := &relyingParty{name: "on-unknown-kid", fetch: func() []byte { return m.JWKS().Body }}
		signers := map[string]bool{}
		for range 300 { // 30 s in 100 ms steps: about 14 rotations
			time.Sleep(100 * time.Millisecond)
			now := time.Now()
			k, err := m.SigningKey(nil)
			if err != nil {
				t.Fatalf("%s: %v", now, err)
			}
			signers[k.KID()] = true
			for _, ki := range m.Keys() {
				if ki.KID != k.KID() {
					continue
				}
				if now.Before(ki.SignsFrom) || now.After(ki.RetiresAt.Add(time.Second)) {
					t.Fatalf("at %s key %s signs outside its window [%s, %s] by more than a second",
						now.Format(time.StampMilli), ki.KID, ki.SignsFrom.Format(time.StampMilli), ki.RetiresAt.Format(time.StampMilli))
				}
			}
			if err := rp.validate(now, sign(t, k, `{}`)); err != nil {
				t.Fatal(err)
			}
		}
		if len(signers) < 10 {
			t.Fatalf("only %d keys signed in 30 s of 2 s rotations", len(signers))
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		synctest.Wait()
	})
}

// TestRunPicksUpPeerChanges: a second instance learns of a rotation made
// by another within a second, through the store's change signal.
func TestRunPicksUpPeerChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := memstore.New()
		a := newManager(t, Config{Options: opts(key.ES256), Store: store})
		b := newManager(t, Config{Options: opts(key.ES256), Store: store})
		start(t, a)
		start(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()
		time.Sleep(10 * time.Millisecond)
		ki, err := a.Rotate(ctx, key.ES256, true)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if k, _ := b.SigningKey(nil); k.KID() != ki.KID {
			t.Fatalf("peer still signs with %s a second after rotate --now to %s", k.KID(), ki.KID)
		}
		if string(a.JWKS().Body) != string(b.JWKS().Body) {
			t.Fatal("JWKS differ between instances after a second")
		}
		cancel()
		<-done
		synctest.Wait()
	})
}

func TestRunRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &flaky{Store: memstore.New()}
		m := newManager(t, Config{Options: opts(key.ES256), Store: store})
		start(t, m)
		store.set(true)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(2 * time.Second)
		if err := m.StoreError(); err == nil {
			t.Fatal("no store error while the store is down")
		}
		store.set(false)
		time.Sleep(maxBackoff + time.Second)
		if err := m.StoreError(); err != nil {
			t.Fatalf("not recovered after the store came back: %v", err)
		}
		cancel()
		<-done
		synctest.Wait()
	})
}

// flakyRev is a flaky store that is also a Revisioner (as SQLite and
// PostgreSQL are), counting the calls made to it while it is down.
type flakyRev struct {
	*flaky
	rev      keystore.Revisioner
	mu       sync.Mutex
	downHits int
}

func (f *flakyRev) hit() error {
	err := f.err()
	if err != nil {
		f.mu.Lock()
		f.downHits++
		f.mu.Unlock()
	}
	return err
}

func (f *flakyRev) Keys(ctx context.Context) ([]key.Record, error) {
	if err := f.hit(); err != nil {
		return nil, err
	}
	return f.flaky.Keys(ctx)
}

func (f *flakyRev) Revision(ctx context.Context) (string, error) {
	if err := f.hit(); err != nil {
		return "", err
	}
	return f.rev.Revision(ctx)
}

func (f *flakyRev) hits() int { f.mu.Lock(); defer f.mu.Unlock(); return f.downHits }

// TestRunOutageBacksOffAndLogsOnce: during a five-minute store outage the
// loop tries the store with exponential backoff (1 s doubling to 30 s,
// not every poll interval) and logs one line when the outage starts and
// one when it ends.
func TestRunOutageBacksOffAndLogsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := memstore.New()
		store := &flakyRev{flaky: &flaky{Store: mem}, rev: mem}
		logs := &logLines{}
		m := newManager(t, Config{Options: opts(key.ES256), Store: store, Logger: logs.logger()})
		start(t, m)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(5 * time.Second)
		logs.take()

		store.set(true)
		time.Sleep(5 * time.Minute)
		// 1+2+4+8+16 s, then every 30 s: about 14 tries, where polling
		// every second would make 300.
		if n := store.hits(); n < 10 || n > 16 {
			t.Errorf("%d store calls during a 5-minute outage, want about 14 (exponential backoff to %s)", n, maxBackoff)
		}
		if got := logs.take(); len(got) != 1 || !strings.HasPrefix(got[0], "ERROR key store failing") || !strings.Contains(got[0], "retry_in=1s") {
			t.Errorf("outage logged %d lines, want one ERROR line: %q", len(got), got[:min(len(got), 3)])
		}
		store.set(false)
		time.Sleep(maxBackoff + time.Second)
		if err := m.StoreError(); err != nil {
			t.Fatalf("not recovered after the store came back: %v", err)
		}
		if got := logs.take(); len(got) != 1 || !strings.HasPrefix(got[0], "INFO key store answers again") {
			t.Errorf("recovery logged %q, want one INFO line", got)
		}
		cancel()
		<-done
		synctest.Wait()
	})
}

func BenchmarkSigningKey(b *testing.B) {
	m := newManager(b, Config{Options: opts(key.ES256, key.RS256), Store: memstore.New()})
	start(b, m)
	allowed := []key.Algorithm{key.RS256}
	b.Run("default", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.SigningKey(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("allowed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.SigningKey(allowed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.SigningKey(nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkJWKS(b *testing.B) {
	m := newManager(b, Config{Options: opts(key.ES256, key.RS256), Store: memstore.New()})
	start(b, m)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n += len(m.JWKS().Body)
	}
	_ = n
}
