package sqlitestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// Concurrent writes are group-committed: writes that queue while another
// commits become one transaction (one fsync), each answered only after
// that commit; a refused write in the batch (a taken id) is refused alone.
func TestGroupCommit(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	taken := granttest.Grant("taken", now)
	if err := s.CreateGrant(ctx, taken); err != nil {
		t.Fatal(err)
	}
	const n = 32
	s.writer <- struct{}{} // a commit in progress
	before := s.commits.Load()
	errs := make([]error, n)
	var answered atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			g := granttest.Grant(fmt.Sprintf("g%d", i), now)
			if i == 7 {
				g = taken
			}
			errs[i] = s.CreateGrant(ctx, g)
			answered.Add(1)
		})
	}
	for {
		s.queueMu.Lock()
		q := len(s.queue)
		s.queueMu.Unlock()
		if q == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if a := answered.Load(); a != 0 {
		t.Fatalf("%d writes answered before any commit", a)
	}
	<-s.writer // the commit in progress ends
	wg.Wait()
	if c := s.commits.Load() - before; c != 1 {
		t.Fatalf("%d concurrent writes made %d commits, want 1", n, c)
	}
	for i, err := range errs {
		switch {
		case i == 7 && !errors.Is(err, grant.ErrExists):
			t.Errorf("write %d (taken id): %v, want ErrExists", i, err)
		case i != 7 && err != nil:
			t.Errorf("write %d: %v", i, err)
		}
	}
	for i := range n {
		if i == 7 {
			continue
		}
		if _, err := s.Grant(ctx, granttest.Grant(fmt.Sprintf("g%d", i), now).ID); err != nil {
			t.Fatalf("write %d not stored: %v", i, err)
		}
	}
}

// Under real concurrency (no held commit) writes still group: fewer
// commits than writes.
func TestGroupCommitUnderLoad(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	before := s.commits.Load()
	const workers, each = 16, 20
	var wg sync.WaitGroup
	var failed atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := s.CreateGrant(ctx, granttest.Grant(fmt.Sprintf("w%d-%d", w, i), now)); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d writes failed", f)
	}
	c := s.commits.Load() - before
	t.Logf("%d writes, %d commits", workers*each, c)
	if c >= workers*each {
		t.Fatalf("%d writes from %d goroutines made %d commits: no grouping", workers*each, workers, c)
	}
}

// Concurrent claims of one-time identifiers join the group commit: one
// transaction, one fsync for all of them, a taken id refused alone and of
// two claims of one id in the batch exactly one successful.
func TestClaimOnceGroupCommit(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	granttest.ClaimsBatched(t, s, granttest.Batcher{
		Hold:    func() { s.writer <- struct{}{} },
		Release: func() { <-s.writer },
		Queued: func() int {
			s.queueMu.Lock()
			defer s.queueMu.Unlock()
			return len(s.queue)
		},
		Batches: s.commits.Load,
	}, 1)
}
