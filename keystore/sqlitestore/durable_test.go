package sqlitestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore"
)

// heldFlush replaces s's WAL flush with one that waits for a value on
// release (each call reports on entered first), then flushes for real.
// letAll lets every flush through; the test's cleanup calls it before
// the store is closed.
func heldFlush(t *testing.T, s *Store) (entered, release chan struct{}, letAll func()) {
	entered, release = make(chan struct{}, 16), make(chan struct{})
	real := s.sync.flush
	s.sync.mu.Lock()
	s.sync.flush = func() error {
		entered <- struct{}{}
		<-release
		return real()
	}
	s.sync.mu.Unlock()
	var once sync.Once
	letAll = func() { once.Do(func() { close(release) }) }
	t.Cleanup(letAll)
	return entered, release, letAll
}

// waitAnswered waits until n writers have been answered.
func waitAnswered(t *testing.T, answered *atomic.Int32, n int32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); answered.Load() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d writers answered, want %d", answered.Load(), n)
		}
	}
}

// waitCommits waits until s has made n commits.
func waitCommits(t *testing.T, s *Store, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.commits.Load() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d commits, want %d", s.commits.Load(), n)
		}
	}
}

// A batch commits while the flush of the batch before is in flight
// (SQLite at FULL held the write lock, and this store the write slot,
// for the whole flush), and no writer is answered before a flush that
// began after its commit has ended.
func TestBatchCommitsDuringFlush(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	entered, release, letAll := heldFlush(t, s)
	before := s.commits.Load()
	var answered atomic.Int32
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = s.CreateGrant(ctx, granttest.Grant("first", now)); answered.Add(1) })
	<-entered // the first write's flush is in flight
	wg.Go(func() { errs[1] = s.CreateGrant(ctx, granttest.Grant("second", now)); answered.Add(1) })
	waitCommits(t, s, before+2) // the second committed during the first's flush
	if a := answered.Load(); a != 0 {
		t.Fatalf("%d writes answered while their flush is held", a)
	}
	release <- struct{}{} // the first flush ends: it began before the second commit
	<-entered             // so the second waits for one more
	waitAnswered(t, &answered, 1)
	time.Sleep(20 * time.Millisecond)
	if a := answered.Load(); a != 1 {
		t.Fatalf("%d writes answered after the first flush, want 1 (the first)", a)
	}
	letAll()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if st := s.WriteStats(); st.Syncs != 2 || st.Writes != 2 {
		t.Fatalf("stats %+v, want 2 writes and 2 flushes", st)
	}
}

// Commits made while a flush is in flight share the next flush: with
// the flush held, 16 writers make commits but only one more flush.
func TestCommitsShareTheNextFlush(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	entered, _, letAll := heldFlush(t, s)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.CreateGrant(ctx, granttest.Grant("lead", now)); err != nil {
			t.Error(err)
		}
	})
	<-entered
	const n = 16
	for i := range n {
		wg.Go(func() {
			if err := s.CreateGrant(ctx, granttest.Grant(fmt.Sprint("g", i), now)); err != nil {
				t.Error(err)
			}
		})
	}
	// Every write is committed (visible) during the held flush.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		var rows int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows == n+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes committed during the flush", rows, n+1)
		}
	}
	letAll()
	wg.Wait()
	if st := s.WriteStats(); st.Syncs != 2 || st.Writes != n+1 {
		t.Fatalf("stats %+v: want %d writes, 2 flushes (the first and one for all the others)", st, n+1)
	}
}

// The commit connection is at NORMAL and the store flushes; the other
// connections stay at FULL. A DSN that chooses NORMAL keeps SQLite's
// behaviour: no commit connection, no store flush.
func TestCommitConnectionLevels(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	var level int
	if err := s.commitConn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil || level != 1 {
		t.Fatalf("commit connection at synchronous %d (%v), want 1 (NORMAL)", level, err)
	}
	if err := s.CreateGrant(ctx, granttest.Grant("g", time.Now())); err != nil {
		t.Fatal(err)
	}
	if st := s.WriteStats(); st.Syncs != 1 || st.Commits != 1 {
		t.Fatalf("one write at the default level: %+v, want 1 commit and 1 store flush", st)
	}

	n := open(t, filepath.Join(t.TempDir(), "normal.db")+"?_pragma=synchronous(NORMAL)")
	if n.commitConn != nil {
		t.Fatal("a DSN at synchronous=NORMAL got a commit connection")
	}
	if err := n.CreateGrant(ctx, granttest.Grant("g", time.Now())); err != nil {
		t.Fatal(err)
	}
	if st := n.WriteStats(); st.Syncs != 0 || st.Commits != 1 {
		t.Fatalf("one write at NORMAL: %+v, want 1 commit and no store flush", st)
	}
}

// A failed flush fails its writers with ErrUnavailable, and every later
// write too: after a failed fsync the kernel may have dropped the data.
func TestFailedFlushSticks(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	eio := errors.New("input/output error")
	s.sync.flush = func() error { return eio }
	err := s.CreateGrant(ctx, granttest.Grant("a", now))
	if !errors.Is(err, keystore.ErrUnavailable) || !errors.Is(err, eio) {
		t.Fatalf("write with a failed flush: %v, want ErrUnavailable wrapping the flush's error", err)
	}
	s.sync.flush = func() error { return nil }
	if err := s.CreateGrant(ctx, granttest.Grant("b", now)); !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("write after a failed flush: %v, want ErrUnavailable", err)
	}
}

// A refused write (the grant used by a commit not yet flushed) is not
// answered before that commit is flushed; nor is Grant when it returns
// the used grant: an answer resting on the use (a refresh token
// presented again within the reuse interval) must not be undone by a
// power loss.
func TestAnswersOnUnflushedCommitsWait(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	g := granttest.Grant("code", now)
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	entered, _, letAll := heldFlush(t, s)
	var answered atomic.Int32
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := s.ConsumeGrant(ctx, g.ID, now); err != nil {
			t.Error(err)
		}
		answered.Add(1)
	})
	<-entered // the use is committed, its flush held
	var replayErr, readErr error
	var read grant.Grant
	wg.Go(func() { _, replayErr = s.ConsumeGrant(ctx, g.ID, now); answered.Add(1) })
	wg.Go(func() { read, readErr = s.Grant(ctx, g.ID); answered.Add(1) })
	time.Sleep(50 * time.Millisecond)
	runtime.Gosched()
	if a := answered.Load(); a != 0 {
		t.Fatalf("%d answers given while the use is not flushed", a)
	}
	letAll()
	wg.Wait()
	if !errors.Is(replayErr, grant.ErrConsumed) {
		t.Fatalf("second use: %v, want ErrConsumed", replayErr)
	}
	if readErr != nil || read.Consumed.IsZero() {
		t.Fatalf("read after the use: %+v, %v; want it used", read, readErr)
	}
}

// An unused grant is read without waiting for a flush (the refresh
// path's first read).
func TestUnusedGrantReadDoesNotWait(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	g := granttest.Grant("fresh", now)
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	entered, _, letAll := heldFlush(t, s)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.CreateGrant(ctx, granttest.Grant("other", now)); err != nil {
			t.Error(err)
		}
	})
	<-entered
	if _, err := s.Grant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	letAll()
	wg.Wait()
}

// BenchmarkConcurrentRefreshStore is the store work of 16 clients
// refreshing at once on one CPU (the benchmark server's setting): each
// rotates its own family, with a little work between its refreshes
// standing in for the request's CPU. "store-flush" is the default (the
// store flushes the WAL beside the next batch), "commit-flush" SQLite's
// own fsync inside each commit (synchronous=EXTRA, the behaviour before).
// It reports the flushes and commits per 1,000 refreshes and the mean
// writes per commit; ns/op is the wall time per refresh.
func BenchmarkConcurrentRefreshStore(b *testing.B) {
	for _, mode := range []struct{ name, query string }{{"store-flush", ""}, {"commit-flush", "?_pragma=synchronous(EXTRA)"}} {
		b.Run(mode.name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			s := open(b, filepath.Join(b.TempDir(), "signet.db")+mode.query)
			now := time.Now()
			const clients = 16
			for c := range clients {
				if err := s.CreateGrant(b.Context(), granttest.RefreshToken(fmt.Sprint("fam-", c), 0, now)); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			syncs0, commits0 := s.stats.syncs.Load(), s.commits.Load()
			flushed0 := s.WriteStats()
			b.ResetTimer()
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					fam := fmt.Sprint("fam-", c)
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						sum := 0
						for k := range 20000 { // a request's CPU, roughly
							sum += k * k
						}
						_ = sum
						rotations(b, s, fam, i, 1, now)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := s.WriteStats()
			syncs := float64(st.Syncs - syncs0)
			if mode.query != "" {
				syncs = float64(st.Commits - commits0) // SQLite flushes in each commit
			}
			b.ReportMetric(syncs/float64(b.N)*1000, "flushes/1k")
			b.ReportMetric(float64(st.Commits-commits0)/float64(b.N)*1000, "commits/1k")
			b.ReportMetric(float64(st.BatchedWrites-flushed0.BatchedWrites)/float64(max(1, st.Commits-commits0)), "writes/commit")
			b.ReportMetric(float64(st.Wait-flushed0.Wait)/float64(st.Writes-flushed0.Writes)/1e6, "wait-ms/write")
			if st.Syncs > syncs0 {
				b.ReportMetric(float64(st.Sync-flushed0.Sync)/float64(st.Syncs-syncs0)/1e6, "ms/flush")
			}
		})
	}
}
