package main

import (
	"bytes"
	"strings"
	"testing"
)

// A window's store counters become per-operation figures: 1,000
// refreshes of 1 write each, in 250 commits and 200 flushes.
func TestWindowStoreStats(t *testing.T) {
	before := storeCounters{"signet_store_writes_total": 100, "signet_store_commits_total": 50, "signet_store_syncs_total": 40,
		"signet_store_batch_writes_sum": 100, "signet_store_batch_writes_count": 50, "signet_store_write_wait_seconds_total": 1,
		"signet_store_sync_seconds_total": 0.5}
	after := storeCounters{"signet_store_writes_total": 1100, "signet_store_commits_total": 300, "signet_store_syncs_total": 240,
		"signet_store_batch_writes_sum": 1100, "signet_store_batch_writes_count": 300, "signet_store_write_wait_seconds_total": 5,
		"signet_store_sync_seconds_total": 1.0}
	got := windowStoreStats(before, after, 1000)
	want := storeStats{WritesPerOp: 1, CommitsPer1k: 250, SyncsPer1k: 200, BatchMean: 4, WaitMs: 4, SyncMs: 2.5}
	if got == nil || *got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if windowStoreStats(nil, after, 1000) != nil {
		t.Fatal("a server without store counters got store stats")
	}
	var out bytes.Buffer
	writeStoreStats(&out, []statefulRow{{Server: "signet", Store: "sqlite", Flow: "refresh", StoreStats: got}, {Server: "oidc-provider"}})
	if s := out.String(); strings.Count(s, "\n") != 1 || !strings.Contains(s, "200 flushes per 1,000 ops") {
		t.Fatalf("report %q", s)
	}
}
