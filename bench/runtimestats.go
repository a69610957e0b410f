package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// Go runtime figures of a measured window, per operation, for the server
// (from its /metrics: go_gc_duration_seconds_count and
// go_memstats_alloc_bytes_total) and for this process, the load
// generator (runtime/metrics). They are insensitive to other load on the
// machine: GC cycles and bytes allocated per 1,000 operations, and the
// load generator's scheduling latency (how long its goroutines waited
// for a CPU once runnable), which is part of every latency it measures.

// defaultLoadGOGC is the load generator's default GOGC. At Go's 100 the
// load generator (one P in the one-core mode) ran a GC cycle every 240
// introspections, about 70 a second at 17,000/s, and each one stalls all
// its clients at once; at 800, one every 4,000 (runtimestats.go's
// figures). Its heap stays a few MiB either way.
const defaultLoadGOGC = 800

// goStats is a sample of a Go process's cumulative GC cycles and bytes
// allocated.
type goStats struct {
	gcCycles   float64
	allocBytes float64
}

// serverGoStats reads a Signet server's GC cycles and bytes allocated
// from its admin listener's /metrics.
func serverGoStats(admin string) (goStats, error) {
	if admin == "" {
		return goStats{}, errors.New("no admin listener")
	}
	status, _, body, err := fetch(admin, newRequest("GET", "/metrics", nil, "", 200))
	if err != nil || status != 200 {
		return goStats{}, fmt.Errorf("/metrics: %d %v", status, err)
	}
	return parseGoStats(body)
}

// parseGoStats reads go_gc_duration_seconds_count and
// go_memstats_alloc_bytes_total from a Prometheus text exposition.
func parseGoStats(body []byte) (goStats, error) {
	var s goStats
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case "go_gc_duration_seconds_count":
			dst = &s.gcCycles
		case "go_memstats_alloc_bytes_total":
			dst = &s.allocBytes
		default:
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return goStats{}, fmt.Errorf("/metrics: %s: %w", name, err)
		}
		*dst = f
		found++
	}
	if found != 2 {
		return goStats{}, errors.New("/metrics lacks go_gc_duration_seconds_count or go_memstats_alloc_bytes_total")
	}
	return s, nil
}

// selfRuntime is a sample of this process's runtime metrics.
type selfRuntime struct {
	goStats
	sched *metrics.Float64Histogram // /sched/latencies:seconds, cumulative
}

var selfRuntimeNames = []string{"/gc/cycles/total:gc-cycles", "/gc/heap/allocs:bytes", "/sched/latencies:seconds"}

func readSelfRuntime() selfRuntime {
	s := make([]metrics.Sample, len(selfRuntimeNames))
	for i, n := range selfRuntimeNames {
		s[i].Name = n
	}
	metrics.Read(s)
	r := selfRuntime{goStats: goStats{gcCycles: float64(s[0].Value.Uint64()), allocBytes: float64(s[1].Value.Uint64())}}
	if s[2].Value.Kind() == metrics.KindFloat64Histogram {
		r.sched = s[2].Value.Float64Histogram()
	}
	return r
}

// schedQuantile returns the q-quantile of the scheduling latencies
// recorded between a and b (0 when there were none).
func schedQuantile(a, b selfRuntime, q float64) time.Duration {
	if a.sched == nil || b.sched == nil || len(a.sched.Counts) != len(b.sched.Counts) {
		return 0
	}
	counts := make([]uint64, len(b.sched.Counts))
	var total uint64
	for i := range counts {
		counts[i] = b.sched.Counts[i] - a.sched.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= want {
			// The bucket's upper bound (Buckets[i+1]); the last is +Inf.
			up := b.sched.Buckets[i+1]
			if up > 1e9 {
				up = b.sched.Buckets[i]
			}
			return time.Duration(up * float64(time.Second))
		}
	}
	return 0
}

// windowStats are the runtime figures of one window, filled in a row.
type windowStats struct {
	admin     string
	srv0      goStats
	srvErr    error
	self0     selfRuntime
	pid       int
	switches0 int64
	swErr     error
	// The samples at the end of the window (stop).
	stopped bool
	self1   selfRuntime
	srv1    goStats
	srv1Err error
	sw1     int64
	sw1Err  error
}

// startWindowStats samples the server (admin: its admin listener, "" for
// none; pid: its process) and this process at the start of a window.
func startWindowStats(admin string, pid int) *windowStats {
	w := &windowStats{admin: admin, pid: pid}
	if admin != "" {
		w.srv0, w.srvErr = serverGoStats(admin)
	}
	w.switches0, w.swErr = procSwitches(pid)
	w.self0 = readSelfRuntime()
	return w
}

// procSwitches is the number of times the threads of process pid gave up
// their CPU, voluntarily (to sleep: a futex wait, a blocking read) or not
// (preempted), summed over /proc/PID/task/*/status. Per operation it
// counts the server's thread sleeps and wake-ups: the Go scheduler's hand-
// offs between threads, which grow with a second P.
func procSwitches(pid int) (int64, error) {
	if pid <= 0 {
		return 0, errors.New("no process")
	}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no threads of process %d", pid)
	}
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		n += parseSwitches(b)
	}
	return n, nil
}

// parseSwitches sums voluntary_ctxt_switches and
// nonvoluntary_ctxt_switches of a /proc status file.
func parseSwitches(status []byte) int64 {
	var n int64
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
			c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			n += c
		}
	}
	return n
}

// stop samples the server and this process at the end of a window.
func (w *windowStats) stop() {
	w.self1 = readSelfRuntime()
	w.sw1, w.sw1Err = procSwitches(w.pid)
	if w.admin != "" && w.srvErr == nil {
		w.srv1, w.srv1Err = serverGoStats(w.admin)
	}
	w.stopped = true
}

// finish writes the window's figures per operation into row (n
// operations), from the samples of stop (taken now if it was not
// called).
func (w *windowStats) finish(row *statefulRow, n int64) {
	if !w.stopped {
		w.stop()
	}
	if n <= 0 {
		return
	}
	per1000 := 1000 / float64(n)
	row.LoadGCPer1000 = round((w.self1.gcCycles-w.self0.gcCycles)*per1000, 2)
	row.LoadAllocKBPerOp = round((w.self1.allocBytes-w.self0.allocBytes)/float64(n)/1024, 2)
	row.LoadSchedP99Ms = float64(schedQuantile(w.self0, w.self1, 0.99).Microseconds()) / 1000
	if w.sw1Err == nil && w.swErr == nil {
		row.ServerSwitchesPerOp = round(float64(w.sw1-w.switches0)/float64(n), 2)
	}
	if w.admin == "" || w.srvErr != nil || w.srv1Err != nil {
		return
	}
	row.ServerGCPer1000 = round((w.srv1.gcCycles-w.srv0.gcCycles)*per1000, 2)
	row.ServerAllocKBPerOp = round((w.srv1.allocBytes-w.srv0.allocBytes)/float64(n)/1024, 2)
}

// writeRuntimeStats prints the runtime figures of each row that has them.
func writeRuntimeStats(w io.Writer, rows []statefulRow) {
	for _, r := range rows {
		if r.Error != "" || (r.ServerAllocKBPerOp == 0 && r.LoadAllocKBPerOp == 0) {
			continue
		}
		fmt.Fprintf(w, "runtime %d-core %s %s %s: server %.2f GC/1k ops, %.2f KiB/op, %.2f thread switches/op; load %.2f GC/1k ops, %.2f KiB/op, scheduling p99 %.3f ms\n",
			r.Cores, r.Server, r.Store, r.Flow, r.ServerGCPer1000, r.ServerAllocKBPerOp, r.ServerSwitchesPerOp, r.LoadGCPer1000, r.LoadAllocKBPerOp, r.LoadSchedP99Ms)
	}
}
