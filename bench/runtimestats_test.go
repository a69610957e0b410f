package main

import (
	"os"
	"runtime/metrics"
	"testing"
	"time"
)

func TestParseGoStats(t *testing.T) {
	body := []byte(`# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.1e-05
go_gc_duration_seconds_sum 0.0123
go_gc_duration_seconds_count 42
go_goroutines 12
go_memstats_alloc_bytes 1.5e+06
go_memstats_alloc_bytes_total 9.8304e+07
`)
	s, err := parseGoStats(body)
	if err != nil || s.gcCycles != 42 || s.allocBytes != 9.8304e+07 {
		t.Fatalf("parseGoStats = %+v, %v; want 42 cycles, 98304000 bytes", s, err)
	}
	if _, err := parseGoStats([]byte("go_goroutines 12\n")); err == nil {
		t.Fatal("no GC figures: no error")
	}
	if _, err := parseGoStats([]byte("go_gc_duration_seconds_count x\ngo_memstats_alloc_bytes_total 1\n")); err == nil {
		t.Fatal("a value that is not a number: no error")
	}
}

// schedQuantile reads the quantile of the latencies recorded between two
// samples only.
func TestSchedQuantile(t *testing.T) {
	buckets := []float64{0, 1e-6, 1e-3, 5e-3, 1}
	a := selfRuntime{sched: &metrics.Float64Histogram{Buckets: buckets, Counts: []uint64{100, 0, 0, 0}}}
	b := selfRuntime{sched: &metrics.Float64Histogram{Buckets: buckets, Counts: []uint64{100, 98, 1, 1}}}
	if got := schedQuantile(a, b, 0.5); got != time.Millisecond {
		t.Fatalf("p50 = %v, want 1ms (the earlier 100 in the first bucket do not count)", got)
	}
	if got := schedQuantile(a, b, 0.99); got != 5*time.Millisecond {
		t.Fatalf("p99 = %v, want 5ms", got)
	}
	if got := schedQuantile(a, a, 0.99); got != 0 {
		t.Fatalf("no latencies: %v, want 0", got)
	}
}

func TestParseSwitches(t *testing.T) {
	status := []byte("Name:\tsignet\nThreads:\t7\nvoluntary_ctxt_switches:\t1200\nnonvoluntary_ctxt_switches:\t34\n")
	if n := parseSwitches(status); n != 1234 {
		t.Fatalf("parseSwitches = %d, want 1234", n)
	}
	if n, err := procSwitches(os.Getpid()); err != nil || n <= 0 {
		t.Fatalf("procSwitches of this process = %d, %v", n, err)
	}
}
