package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// A SQLite store's write counters are exported: a write is one commit,
// one flush, one batch of one; a store without counters exports none.
func TestStoreMetrics(t *testing.T) {
	s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateGrant(t.Context(), granttest.Grant("g", time.Now())); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := registerStoreMetrics(reg, s); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			got[mf.GetName()] = m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			got[mf.GetName()+"_count"] = float64(m.GetHistogram().GetSampleCount())
			got[mf.GetName()+"_sum"] = m.GetHistogram().GetSampleSum()
		}
	}
	for name, want := range map[string]float64{"signet_store_writes_total": 1, "signet_store_commits_total": 1, "signet_store_syncs_total": 1,
		"signet_store_batch_writes_count": 1, "signet_store_batch_writes_sum": 1} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
		}
	}
	if got["signet_store_write_wait_seconds_total"] <= 0 {
		t.Errorf("signet_store_write_wait_seconds_total = %v, want > 0", got["signet_store_write_wait_seconds_total"])
	}

	reg = prometheus.NewRegistry()
	if err := registerStoreMetrics(reg, memstore.New()); err != nil {
		t.Fatal(err)
	}
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Fatalf("a memory store exported %d store metrics, want 0", len(mfs))
	}
}
