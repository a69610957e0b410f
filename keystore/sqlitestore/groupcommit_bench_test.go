package sqlitestore

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signet-id/signet/grant/granttest"
)

// BenchmarkRotateParallel is refreshes' store work from 16 goroutines at
// once (16 clients, as in the load benchmark), each rotating its own
// family, on a database in /dev/shm when there is one (no fsync cost: what
// is left is CPU). Run it with -cpu 1,2: it reports how many writes each
// group commit held (writes/commit) and the process's CPU time per
// rotation (cpu-ms/op, insensitive to other load on the machine), which
// show whether a second P changes the batching and the CPU a refresh's
// writes cost (docs/benchmarks.md, "Many cores").
func BenchmarkRotateParallel(b *testing.B) {
	dir := b.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err = os.MkdirTemp("/dev/shm", "signet-bench-"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	s := open(b, dir+"/signet.db")
	now := time.Now()
	const clients = 16
	var next atomic.Int64
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	commits0 := s.commits.Load()
	cpu0 := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		fam := fmt.Sprintf("fam-%d", next.Add(1))
		if err := s.CreateGrant(b.Context(), granttest.RefreshToken(fam, 0, now)); err != nil {
			b.Error(err)
			return
		}
		i := 0
		for pb.Next() {
			if _, err := s.Rotate(b.Context(), granttest.RefreshToken(fam, i, now).ID, now, granttest.RefreshToken(fam, i+1, now)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.StopTimer()
	commits := s.commits.Load() - commits0
	if commits > 0 {
		b.ReportMetric(float64(b.N)/float64(commits), "writes/commit")
	}
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// processCPU is the CPU time this process used so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
