package sqlitestore

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// BenchmarkClaimOnce: one-time identifiers claimed by 16 concurrent
// callers (the benchmark's connections), committed without the disk
// flush (default) and with it (DurableReplay). The database is in the
// test's temporary directory: on a disk, the durable variant waits for
// an fsync per group commit.
func BenchmarkClaimOnce(b *testing.B) {
	for _, durable := range []bool{false, true} {
		b.Run(fmt.Sprintf("durable=%v", durable), func(b *testing.B) {
			s, err := OpenWith(b.Context(), filepath.Join(b.TempDir(), "signet.db"), Options{DurableReplay: durable})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n atomic.Int64
			now := time.Now()
			b.SetParallelism(8) // 16 callers on 2 CPUs
			b.ReportAllocs()
			commits0, statements0, cpu0 := s.commits.Load(), s.claimStatements.Load(), processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := grant.OnceID(grant.OnceDPoPProof, "k", fmt.Sprint(n.Add(1)))
					if err := grant.UseOnce(b.Context(), s, id, now, now.Add(time.Minute)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/float64(s.commits.Load()-commits0), "claims/commit")
			b.ReportMetric(float64(s.claimStatements.Load()-statements0)/float64(b.N), "statements/claim")
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1000/float64(b.N), "cpu-us/op")
		})
	}
}
