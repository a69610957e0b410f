package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The SQLite store's write counters (signet_store_* on the admin
// listener's /metrics), read at the start and the end of a window: how
// the window's writes grouped into transactions and WAL flushes, and how
// long a writer waited. Counts per operation do not depend on how busy
// the machine is the way rates do.

// storeStats are a window's store counters per operation.
type storeStats struct {
	WritesPerOp  float64 `json:"writesPerOp"`  // writes (rotation, session start, ...) per operation
	CommitsPer1k float64 `json:"commitsPer1k"` // transactions per 1,000 operations
	SyncsPer1k   float64 `json:"syncsPer1k"`   // commits that fsynced the WAL, per 1,000 operations
	BatchMean    float64 `json:"batchMean"`    // writes per transaction
	WaitMs       float64 `json:"waitMs"`       // a writer's mean time from queueing to its answer
	SyncMs       float64 `json:"syncMs"`       // a flushing commit's mean time (mostly the fsync)
}

// storeCounters are the signet_store_* values of one /metrics read.
type storeCounters map[string]float64

// scrapeStore reads the signet_store_* counters from the admin listener
// at admin.
func scrapeStore(admin string) (storeCounters, error) {
	if admin == "" {
		return nil, nil
	}
	// net/http, not fetch: /metrics comes chunked, and a chunk boundary
	// can fall inside a line.
	c := &http.Client{Timeout: ioTimeout}
	resp, err := c.Get("http://" + admin + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("/metrics: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: %d %v", resp.StatusCode, err)
	}
	out := storeCounters{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "signet_store_") || strings.Contains(line, "{") {
			continue // other metrics, histogram buckets
		}
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			out[name] = f
		}
	}
	if len(out) == 0 {
		return nil, nil // a store without counters
	}
	return out, nil
}

// windowStoreStats returns the store counters of a window of ops
// operations, from its first and last reads; nil without counters.
func windowStoreStats(before, after storeCounters, ops int64) *storeStats {
	if before == nil || after == nil || ops <= 0 {
		return nil
	}
	d := func(name string) float64 { return after[name] - before[name] }
	per := func(v, n float64) float64 {
		if n <= 0 {
			return 0
		}
		return v / n
	}
	writes, commits, syncs := d("signet_store_writes_total"), d("signet_store_commits_total"), d("signet_store_syncs_total")
	n := float64(ops)
	return &storeStats{
		WritesPerOp:  round(writes/n, 2),
		CommitsPer1k: round(commits/n*1000, 0),
		SyncsPer1k:   round(syncs/n*1000, 0),
		BatchMean:    round(per(d("signet_store_batch_writes_sum"), d("signet_store_batch_writes_count")), 2),
		WaitMs:       round(per(d("signet_store_write_wait_seconds_total")*1000, writes), 3),
		SyncMs:       round(per(d("signet_store_sync_seconds_total")*1000, syncs), 3),
	}
}

// writeStoreStats prints the rows' store counters.
func writeStoreStats(w io.Writer, rows []statefulRow) {
	for _, r := range rows {
		if s := r.StoreStats; s != nil {
			fmt.Fprintf(w, "store %s %s %s: %.2f writes/op, %.0f commits and %.0f flushes per 1,000 ops, %.2f writes per commit, write wait %.3f ms, flushing commit %.3f ms\n",
				r.Server, r.Store, r.Flow, s.WritesPerOp, s.CommitsPer1k, s.SyncsPer1k, s.BatchMean, s.WaitMs, s.SyncMs)
		}
	}
}
