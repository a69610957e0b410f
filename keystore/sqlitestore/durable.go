package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-id/signet/keystore"
)

// Pipelined group commit. With synchronous=FULL in WAL mode, SQLite's
// commit writes the transaction's frames to the WAL and then fsyncs the
// WAL, holding the database's write lock (and this store's write slot)
// for the whole fsync: the next batch of writes can neither run its
// statements nor commit until the flush ends, so each batch's statements
// sit on the path between two flushes and the batches form only while a
// flush runs.
//
// SQLite documents FULL in WAL mode as NORMAL plus one sync of the WAL
// after each commit (https://sqlite.org/pragma.html#pragma_synchronous:
// "With synchronous=FULL in WAL mode, an additional sync operation of the
// WAL file happens after each transaction commit"; NORMAL still syncs
// the WAL before each checkpoint and the header when the WAL is reused).
// So when the database is at FULL (the default), batches commit on a
// connection of their own at NORMAL, the write slot is released at once,
// and the store makes the WAL durable itself, with fsync(2) on the -wal
// file, before any writer of the batch is answered: what a caller is
// told is stored has been flushed, as with FULL. The next batch runs and
// commits while the flush is in flight; one flush at a time covers every
// commit made before it started, so commits made during a flush share
// the next one. fsync flushes the file's data whichever descriptor wrote
// it, and WAL recovery keeps the longest valid prefix of commits, so a
// crash in the middle leaves a prefix of the commits, never a later
// commit without an earlier one.
//
// A commit is visible to other connections, and other processes, before
// it is flushed (with FULL, SQLite makes it visible after the flush). So
// every answer that may rest on commits of others waits for a flush that
// started after it read them: a writer for one that started after its
// batch ended (whether the batch changed anything or not), and Grant when
// it returns a used or revoked grant (a refresh token presented again
// within the reuse interval is answered with its successor). No answer
// depends on a commit a power loss could undo. A DSN that sets
// synchronous to anything but FULL keeps SQLite's own behaviour (no store
// flush).

// syncer is the store's WAL flush: a goroutine of the store that runs
// one flush at a time, back to back while writers wait, each covering
// every commit made before it started. (A writer that flushed for the
// others would leave a gap between two flushes until the next waiter
// ran: with one CPU, after every request it woke.)
type syncer struct {
	mu   sync.Mutex
	cond *sync.Cond // flushes ended (done, err)
	// started and done count the flushes begun and ended; the flush
	// numbered started+1 is the first to begin after now. want is the
	// highest flush a writer waits for.
	started, done, want uint64
	err                 error // a failed flush: every later wait fails (sticky)
	kick                chan struct{}
	stop                chan struct{}
	wg                  sync.WaitGroup
	file                *os.File
	// flush makes the WAL durable (fsyncWAL; tests replace it before
	// the first write).
	flush func() error
}

// startSyncer starts the flush goroutine; closeSync stops it.
func (s *Store) startSyncer() {
	y := &s.sync
	y.cond = sync.NewCond(&y.mu)
	y.flush = s.fsyncWAL
	if s.commitConn == nil {
		return
	}
	y.kick, y.stop = make(chan struct{}, 1), make(chan struct{})
	y.wg.Go(func() {
		for {
			select {
			case <-y.stop:
				return
			case <-y.kick:
			}
			y.mu.Lock()
			for y.want > y.done && y.err == nil {
				y.started++
				y.mu.Unlock()
				t0 := time.Now()
				err := y.flush()
				s.stats.syncNanos.Add(int64(time.Since(t0)))
				s.stats.syncs.Add(1)
				y.mu.Lock()
				y.done = y.started
				if err != nil {
					y.err = fmt.Errorf("flush %s-wal: %w (the last commits may not be on disk; restart signet)", s.path, err)
				}
				y.cond.Broadcast()
			}
			y.mu.Unlock()
		}
	})
}

// fsyncWAL fsyncs the database's -wal file, opened once and kept: the
// file stays while the store holds a connection, and a checkpoint that
// truncates it keeps its inode.
func (s *Store) fsyncWAL() error {
	y := &s.sync
	if y.file == nil { // only the flush goroutine gets here
		f, err := os.OpenFile(s.path+"-wal", os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // no WAL yet: nothing committed to flush
		}
		if err != nil {
			return err
		}
		y.file = f
	}
	return y.file.Sync()
}

// nextFlush returns the number of the first flush to begin after now,
// which an answer resting on what the caller read must wait for; 0 when
// SQLite flushes in its commits.
func (s *Store) nextFlush() uint64 {
	if s.commitConn == nil {
		return 0
	}
	y := &s.sync
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.started + 1
}

// waitDurable returns once flush n has ended; an error if a flush
// failed.
func (s *Store) waitDurable(n uint64) error {
	if n == 0 {
		return nil
	}
	y := &s.sync
	y.mu.Lock()
	defer y.mu.Unlock()
	if n > y.want {
		y.want = n
		select {
		case y.kick <- struct{}{}:
		default: // the goroutine is kicked already
		}
	}
	for y.done < n && y.err == nil {
		y.cond.Wait()
	}
	return y.err
}

// commitConnection returns a connection of db for the batches, set to
// synchronous=NORMAL, when the database is at FULL; nil (batches commit
// on the pool, SQLite flushes) when the DSN chose another level.
func commitConnection(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open the commit connection: %w", err)
	}
	var level int
	if err := c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		c.Close()
		return nil, fmt.Errorf("sqlitestore: open the commit connection: %w", err)
	}
	if level != 2 { // FULL
		return nil, c.Close()
	}
	if _, err := c.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		c.Close()
		return nil, fmt.Errorf("sqlitestore: open the commit connection: %w", err)
	}
	return c, nil
}

// WriteStats are counters of a Store's writes since it was opened: how
// they group into transactions and flushes, and how long a writer waits.
type WriteStats struct {
	// Writes is how many writes (one call that changes the store, such
	// as a rotation or a session start) were answered, Commits how many
	// transactions committed them, Syncs how many WAL flushes the store
	// made itself (0 when SQLite flushes inside its commits).
	Writes, Commits, Syncs int64
	// Wait is the writers' total time from queueing to the answer, Sync
	// the flushes' total time.
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

// durableErr wraps a failed flush for a writer.
func (s *Store) durableErr(op string, err error) error {
	return fmt.Errorf("sqlitestore: %s: %w: %w", op, keystore.ErrUnavailable, err)
}

// closeSync stops the flush goroutine and closes the commit connection
// and the -wal file.
func (s *Store) closeSync() error {
	if s.sync.stop != nil {
		close(s.sync.stop)
		s.sync.wg.Wait()
	}
	var errs []error
	if s.commitConn != nil {
		errs = append(errs, s.commitConn.Close())
	}
	if s.sync.file != nil {
		errs = append(errs, s.sync.file.Close())
	}
	return errors.Join(errs...)
}
