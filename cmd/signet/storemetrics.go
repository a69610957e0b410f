package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// storeWrites is a store that counts its writes (sqlitestore).
type storeWrites interface {
	WriteStats() sqlitestore.WriteStats
}

// storeCollector exports a store's write counters (signet_store_*): how
// writes group into transactions and flushes, and how long they wait.
type storeCollector struct {
	store                                       storeWrites
	writes, commits, syncs, wait, syncTime, bat *prometheus.Desc
}

// registerStoreMetrics registers the write counters of store when it
// keeps them.
func registerStoreMetrics(reg prometheus.Registerer, store keystore.Store) error {
	sw, ok := store.(storeWrites)
	if !ok {
		return nil
	}
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return reg.Register(&storeCollector{store: sw,
		writes:   d("signet_store_writes_total", "Writes to the store answered (a rotation, a session start, ...)."),
		commits:  d("signet_store_commits_total", "Transactions the store committed its writes in (group commit)."),
		syncs:    d("signet_store_syncs_total", "Commits that flushed the WAL (fsync; synchronous FULL or EXTRA)."),
		wait:     d("signet_store_write_wait_seconds_total", "Writers' total time from queueing a write to its answer (after its commit)."),
		syncTime: d("signet_store_sync_seconds_total", "Total time of the flushing commits' COMMIT (mostly the fsync)."),
		bat:      d("signet_store_batch_writes", "Writes per group-committed transaction."),
	})
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.writes, c.commits, c.syncs, c.wait, c.syncTime, c.bat} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.WriteStats()
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	counter(c.writes, float64(st.Writes))
	counter(c.commits, float64(st.Commits))
	counter(c.syncs, float64(st.Syncs))
	counter(c.wait, st.Wait.Seconds())
	counter(c.syncTime, st.Sync.Seconds())
	buckets := map[float64]uint64{}
	var total uint64
	for i, n := range st.Batches {
		total += uint64(n)
		buckets[float64(int(1)<<i)] = total
	}
	ch <- prometheus.MustNewConstHistogram(c.bat, total, float64(st.BatchedWrites), buckets)
}
