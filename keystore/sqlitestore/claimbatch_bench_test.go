package sqlitestore

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// BenchmarkClaimBatch: one group commit of 1, 8 (the load benchmark's
// connections) or 16 claims of one-time identifiers per iteration (the
// write slot is held while the callers queue), so every run commits the
// same batches whatever the machine's load: run it under valgrind
// (cachegrind, difference of two -benchtime counts) for the instructions
// per batch, with GOMAXPROCS=1 (as the server runs in the load
// benchmark), where the callers queue without sleeping or spinning. It
// reports the process's CPU per claim too.
func BenchmarkClaimBatch(b *testing.B) {
	for _, claims := range []int{1, 8, 16} {
		b.Run(fmt.Sprintf("claims=%d", claims), func(b *testing.B) { benchmarkClaimBatch(b, claims) })
	}
}

func benchmarkClaimBatch(b *testing.B, claims int) {
	s, err := OpenWith(b.Context(), filepath.Join(b.TempDir(), "signet.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	n := 0
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		s.writer <- struct{}{}
		var wg sync.WaitGroup
		for range claims {
			n++
			id := grant.OnceID(grant.OnceDPoPProof, "k", fmt.Sprint(n))
			wg.Go(func() {
				if err := grant.UseOnce(b.Context(), s, id, now, now.Add(time.Minute)); err != nil {
					b.Error(err)
				}
			})
		}
		for queued(s) < claims {
			runtime.Gosched() // with GOMAXPROCS=1, one round queues them all
		}
		<-s.writer
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1000/float64(n), "cpu-us/claim")
}
