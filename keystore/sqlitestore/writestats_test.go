package sqlitestore

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// The write counters: a write is one answer, one commit and (at the
// default FULL) one flush; writes queued behind a commit are one batch;
// a batch of one-time identifiers alone does not flush; at NORMAL no
// commit flushes.
func TestWriteStats(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateGrant(ctx, granttest.Grant("one", now)); err != nil {
		t.Fatal(err)
	}
	if st := s.WriteStats(); st.Writes != 1 || st.Commits != 1 || st.Syncs != 1 || st.Batches[0] != 1 || st.BatchedWrites != 1 || st.Wait <= 0 || st.Sync <= 0 {
		t.Fatalf("one write: %+v", st)
	}

	s.writer <- struct{}{} // a commit in progress
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			if err := s.CreateGrant(ctx, granttest.Grant(fmt.Sprint("g", i), now)); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueue(t, s, 6)
	<-s.writer
	wg.Wait()
	// 5–8 writes: Batches[3].
	if st := s.WriteStats(); st.Writes != 7 || st.Commits != 2 || st.Syncs != 2 || st.Batches[3] != 1 || st.BatchedWrites != 7 {
		t.Fatalf("six writes behind a commit: %+v, want one more commit and flush, a batch of 5-8", st)
	}

	claim := grant.Grant{ID: grant.OnceID(grant.OnceDPoPProof, "k", "x"), Kind: grant.KindJTI, Created: now, Expires: now.Add(time.Minute)}
	if err := s.ClaimOnce(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if st := s.WriteStats(); st.Writes != 8 || st.Commits != 3 || st.Syncs != 2 {
		t.Fatalf("a claim: %+v, want a commit without a flush", st)
	}

	n := open(t, filepath.Join(t.TempDir(), "normal.db")+"?_pragma=synchronous(NORMAL)")
	if err := n.CreateGrant(ctx, granttest.Grant("g", now)); err != nil {
		t.Fatal(err)
	}
	if st := n.WriteStats(); st.Commits != 1 || st.Syncs != 0 {
		t.Fatalf("a write at NORMAL: %+v, want a commit without a flush", st)
	}
}

// BenchmarkConcurrentRefreshStore is the store work of 16 clients
// refreshing at once on one CPU (the benchmark server's setting): each
// rotates its own family, with a little work between its refreshes
// standing in for the request's CPU. It reports the process's CPU time,
// the flushes and commits per 1,000 refreshes, the writes per commit and
// a write's wait; ns/op is the wall time per refresh. temp-file is
// temp_store(FILE), the savepoints' sub-journals spilling to a file (the
// default before), temp-memory the default.
func BenchmarkConcurrentRefreshStore(b *testing.B) {
	for _, mode := range []struct{ name, query string }{{"temp-memory", ""}, {"temp-file", "?_pragma=temp_store(FILE)"}} {
		b.Run(mode.name, func(b *testing.B) { concurrentRefreshes(b, mode.query) })
	}
}

func concurrentRefreshes(b *testing.B, query string) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	s := open(b, filepath.Join(b.TempDir(), "signet.db")+query)
	now := time.Now()
	const clients = 16
	for c := range clients {
		if err := s.CreateGrant(b.Context(), granttest.RefreshToken(fmt.Sprint("fam-", c), 0, now)); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	st0 := s.WriteStats()
	cpu0 := processCPU()
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
	cpu := processCPU() - cpu0
	st := s.WriteStats()
	n := float64(b.N)
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(st.Syncs-st0.Syncs)/n*1000, "flushes/1k")
	b.ReportMetric(float64(st.Commits-st0.Commits)/n*1000, "commits/1k")
	b.ReportMetric(float64(st.BatchedWrites-st0.BatchedWrites)/float64(max(1, st.Commits-st0.Commits)), "writes/commit")
	b.ReportMetric(float64(st.Wait-st0.Wait)/float64(st.Writes-st0.Writes)/1e6, "wait-ms/write")
}

// Connections keep temporary data, the savepoints' sub-journals
// included, in memory: a batch's sub-journal outgrew SQLite's 64 KiB
// in-memory part and went to a temporary file, a write(2) per page.
// A DSN that sets temp_store keeps its choice.
func TestTempStoreInMemory(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	var level int
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA temp_store`).Scan(&level); err != nil || level != 2 {
		t.Fatalf("temp_store is %d (%v), want 2 (MEMORY)", level, err)
	}
	f := open(t, filepath.Join(t.TempDir(), "file.db")+"?_pragma=temp_store(FILE)")
	if err := f.db.QueryRowContext(t.Context(), `PRAGMA temp_store`).Scan(&level); err != nil || level != 1 {
		t.Fatalf("with temp_store(FILE) in the DSN: %d (%v), want 1 (FILE)", level, err)
	}
}
