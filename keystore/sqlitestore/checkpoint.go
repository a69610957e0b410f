package sqlitestore

import (
	"context"
	"strings"
	"sync"
)

// The WAL is checkpointed in the background, not by a commit. SQLite's
// automatic checkpoint runs inside the commit that crosses 1,000 pages of
// WAL: with synchronous=FULL it writes the pages back and fsyncs the WAL
// and the database file while the commit, and so the write slot and every
// request queued on it, waits. Open turns it off on every connection
// (unless the DSN sets wal_autocheckpoint) and a goroutine of the Store
// runs a PASSIVE checkpoint every checkpointEvery commits instead, beside
// the writers (a PASSIVE checkpoint never blocks them), then a second one
// with the write slot held for the few commits made during the first.

// checkpointEvery is how many commits the checkpointer lets pass between
// two checkpoints: at a few pages per commit, well below the 1,000 pages
// of SQLite's automatic checkpoint.
const checkpointEvery = 64

// noAutoCheckpoint adds wal_autocheckpoint(0) to the DSN's pragmas
// unless they set it.
func noAutoCheckpoint(pragmas []string) []string {
	for _, p := range pragmas {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "wal_autocheckpoint") {
			return pragmas
		}
	}
	return append(pragmas, "wal_autocheckpoint(0)")
}

// tempStoreMemory adds temp_store(MEMORY) to the DSN's pragmas unless
// they set temp_store. A batch of the group commit runs each write in a
// savepoint, and SQLite keeps the pages a savepoint may roll back in a
// sub-journal that spills to a temporary file past 64 KiB, which a batch
// of a few writes passes: every such page was then written to a file
// with write(2) (and the file created and deleted per transaction), the
// sub-journal being needed only to roll a savepoint back. In memory it
// costs no system call; a batch holds at most maxBatch writes' pages.
func tempStoreMemory(pragmas []string) []string {
	for _, p := range pragmas {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "temp_store") {
			return pragmas
		}
	}
	return append(pragmas, "temp_store(MEMORY)")
}

// checkpointer is the background checkpoint's goroutine and its signals.
type checkpointer struct {
	kick chan struct{} // a checkpoint is due (buffered 1)
	stop chan struct{} // closed by Close
	wg   sync.WaitGroup
	// runs counts the checkpoints made (tests).
	runs int64
	mu   sync.Mutex
}

// startCheckpointer starts the goroutine; Close stops it.
func (s *Store) startCheckpointer() {
	c := &s.ckpt
	c.kick, c.stop = make(chan struct{}, 1), make(chan struct{})
	c.wg.Go(func() {
		for {
			select {
			case <-c.stop:
				return
			case <-c.kick:
			}
			// A failure (the database busy, say) is retried at the next
			// kick; the WAL only grows meanwhile.
			ctx := context.Background()
			_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			// The commits made meanwhile, with the write slot held: the
			// WAL is then all in the database and the next commit starts
			// it again from its beginning, where a checkpoint always one
			// step behind the writers would let it grow without end.
			select {
			case <-c.stop:
				return
			case s.writer <- struct{}{}:
			}
			_, _ = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			<-s.writer
			c.mu.Lock()
			c.runs++
			c.mu.Unlock()
		}
	})
}

// committed notes a commit and kicks the checkpointer every
// checkpointEvery commits.
func (s *Store) committed() {
	if n := s.commits.Add(1); s.ckpt.kick != nil && n%checkpointEvery == 0 {
		select {
		case s.ckpt.kick <- struct{}{}:
		default: // one is due already
		}
	}
}

// stopCheckpointer stops the goroutine and waits for it.
func (s *Store) stopCheckpointer() {
	if s.ckpt.stop != nil {
		close(s.ckpt.stop)
		s.ckpt.wg.Wait()
	}
}
