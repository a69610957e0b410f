package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// WriteStats are counters of a Store's writes since it was opened: how
// they group into transactions and WAL flushes, and how long a writer
// waits. They are exported as metrics (signet_store_*) by signet serve.
type WriteStats struct {
	// Writes is how many writes (one call that changes the store, such
	// as a rotation or a session start) were answered, Commits how many
	// transactions committed them (group commit), Syncs how many of
	// those commits flushed the WAL (fsync: at synchronous FULL or
	// EXTRA, every commit but a batch of one-time identifiers alone).
	Writes, Commits, Syncs int64
	// Wait is the writers' total time from queueing to the answer, Sync
	// the total time of the flushing commits' COMMIT (mostly the fsync).
	Wait, Sync time.Duration
	// Batches counts the batches by their number of writes: Batches[i]
	// holds the batches of 2^(i-1) < n <= 2^i writes (1, 2, 3–4, 5–8,
	// ..., 33–64). BatchedWrites is the writes of all of them.
	Batches       [7]int64
	BatchedWrites int64
}

// writeStats are a Store's counters (WriteStats).
type writeStats struct {
	writes, syncs, waitNanos, syncNanos, batched atomic.Int64
	batches                                      [7]atomic.Int64
}

// answered counts a write queued at t0 and answered now.
func (w *writeStats) answered(t0 time.Time) {
	w.writes.Add(1)
	w.waitNanos.Add(int64(time.Since(t0)))
}

// flushed counts a commit that flushed the WAL, begun at t0.
func (w *writeStats) flushed(t0 time.Time) {
	w.syncs.Add(1)
	w.syncNanos.Add(int64(time.Since(t0)))
}

// batch counts a batch of n writes.
func (w *writeStats) batch(n int) {
	i := 0
	for 1<<i < n && i < len(w.batches)-1 {
		i++
	}
	w.batches[i].Add(1)
	w.batched.Add(int64(n))
}

// WriteStats returns the counters of the store's writes.
func (s *Store) WriteStats() WriteStats {
	st := WriteStats{Writes: s.stats.writes.Load(), Commits: s.commits.Load(), Syncs: s.stats.syncs.Load(),
		Wait: time.Duration(s.stats.waitNanos.Load()), Sync: time.Duration(s.stats.syncNanos.Load()),
		BatchedWrites: s.stats.batched.Load()}
	for i := range st.Batches {
		st.Batches[i] = s.stats.batches[i].Load()
	}
	return st
}

// commitsFlush reports whether the connections of db flush the WAL in
// every commit: synchronous FULL (2, the default) or EXTRA (3).
func commitsFlush(ctx context.Context, db *sql.DB) (bool, error) {
	var level int
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		return false, fmt.Errorf("sqlitestore: read the synchronous level: %w", err)
	}
	return level >= 2, nil
}
