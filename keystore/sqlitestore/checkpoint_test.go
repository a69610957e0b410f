package sqlitestore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-id/signet/grant/granttest"
)

// Commits do not checkpoint the WAL (SQLite's automatic checkpoint is off
// on every connection): the Store's checkpointer does, beside them, and
// keeps the WAL from growing.
func TestCheckpointOutsideCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path)
	ctx := t.Context()
	conns := make([]int, 0, 3)
	for range 3 { // whichever connections the pool hands out
		var n int
		if err := s.db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, n)
	}
	for _, n := range conns {
		if n != 0 {
			t.Fatalf("wal_autocheckpoint = %v, want 0: commits would checkpoint", conns)
		}
	}
	const commits = 10 * checkpointEvery
	now := time.Now()
	for i := range commits {
		if err := s.CreateGrant(ctx, granttest.Grant(fmt.Sprintf("g%d", i), now)); err != nil {
			t.Fatal(err)
		}
	}
	s.ckpt.mu.Lock()
	runs := s.ckpt.runs
	s.ckpt.mu.Unlock()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Without a checkpoint every commit adds at least one frame (a page
	// and its header) to the WAL.
	if limit := int64(commits) * (4096 + 24); fi.Size() > limit {
		t.Fatalf("WAL is %d bytes after %d commits (%d checkpoints), want at most %d", fi.Size(), commits, runs, limit)
	}
	t.Logf("WAL %d bytes after %d commits, %d checkpoints", fi.Size(), commits, runs)
}

// A DSN that sets wal_autocheckpoint keeps its setting.
func TestCheckpointDSNSetting(t *testing.T) {
	s := open(t, "file:"+filepath.Join(t.TempDir(), "signet.db")+"?_pragma=wal_autocheckpoint(500)")
	var n int
	if err := s.db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 500 {
		t.Fatalf("wal_autocheckpoint = %d, want the DSN's 500", n)
	}
}
