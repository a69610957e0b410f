package sqlitestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// queued is how many writes are queued.
func queued(s *Store) int {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	return len(s.queue)
}

// waitQueue waits until n writes are queued.
func waitQueue(t testing.TB, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		q := queued(s)
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A batch of one-time identifiers only commits on the replay connection,
// whose synchronous level is NORMAL (no flush before the answer); a
// batch holding a grant, alone or beside claims, commits with FULL.
func TestClaimBatchSkipsTheFlush(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	var level int
	if err := s.replay.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil || level != 1 {
		t.Fatalf("the replay connection's synchronous level is %d (%v), want 1 (NORMAL)", level, err)
	}
	var full int
	if err := s.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&full); err != nil || full != 2 {
		t.Fatalf("the other connections' synchronous level is %d (%v), want 2 (FULL)", full, err)
	}

	claim := func(id string) grant.Grant {
		return grant.Grant{ID: grant.OnceID(grant.OnceDPoPProof, "k", id), Kind: grant.KindJTI, Created: now, Expires: now.Add(time.Minute)}
	}
	before, relaxed := s.commits.Load(), s.relaxedCommits.Load()
	if err := s.ClaimOnce(ctx, claim("a")); err != nil {
		t.Fatal(err)
	}
	if c, r := s.commits.Load()-before, s.relaxedCommits.Load()-relaxed; c != 1 || r != 1 {
		t.Fatalf("one claim: %d commits, %d relaxed; want 1, 1", c, r)
	}

	// A grant alone: flushed.
	before, relaxed = s.commits.Load(), s.relaxedCommits.Load()
	if err := s.CreateGrant(ctx, granttest.Grant("g", now)); err != nil {
		t.Fatal(err)
	}
	if c, r := s.commits.Load()-before, s.relaxedCommits.Load()-relaxed; c != 1 || r != 0 {
		t.Fatalf("one grant: %d commits, %d relaxed; want 1, 0", c, r)
	}

	// Claims and a grant in one batch: flushed, all stored.
	s.writer <- struct{}{} // a commit in progress
	before, relaxed = s.commits.Load(), s.relaxedCommits.Load()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 3 {
		wg.Go(func() { errs[i] = s.ClaimOnce(ctx, claim(fmt.Sprint("m", i))) })
	}
	wg.Go(func() { errs[3] = s.CreateGrant(ctx, granttest.Grant("mixed", now)) })
	waitQueue(t, s, 4)
	<-s.writer
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if c, r := s.commits.Load()-before, s.relaxedCommits.Load()-relaxed; c != 1 || r != 0 {
		t.Fatalf("claims beside a grant: %d commits, %d relaxed; want 1, 0", c, r)
	}

	// Claims only in one batch: one relaxed commit; a replay among them
	// is refused.
	s.writer <- struct{}{}
	before, relaxed = s.commits.Load(), s.relaxedCommits.Load()
	for i := range 4 {
		id := fmt.Sprint("c", i)
		if i == 3 {
			id = "a" // claimed above
		}
		wg.Go(func() { errs[i] = s.ClaimOnce(ctx, claim(id)) })
	}
	waitQueue(t, s, 4)
	<-s.writer
	wg.Wait()
	if err := errors.Join(errs[:3]...); err != nil || !errors.Is(errs[3], grant.ErrExists) {
		t.Fatalf("claims: %v; replay: %v, want ErrExists", err, errs[3])
	}
	if c, r := s.commits.Load()-before, s.relaxedCommits.Load()-relaxed; c != 1 || r != 1 {
		t.Fatalf("claims only: %d commits, %d relaxed; want 1, 1", c, r)
	}
}

// A claim committed without the flush is seen at once by another handle
// (another process): the replay is refused there.
func TestRelaxedClaimSharedAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	a, b := open(t, path), open(t, path)
	ctx := t.Context()
	now := time.Now()
	id := grant.OnceID(grant.OnceClientAssertion, "client", "jti-1")
	if err := grant.UseOnce(ctx, a, id, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if a.relaxedCommits.Load() != 1 {
		t.Fatalf("the claim made %d relaxed commits, want 1", a.relaxedCommits.Load())
	}
	if err := grant.UseOnce(ctx, b, id, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay at another handle: %v, want ErrReplayed", err)
	}
}

// DurableReplay: claims wait for the flush like every write.
func TestDurableReplayOption(t *testing.T) {
	s, err := OpenWith(t.Context(), filepath.Join(t.TempDir(), "signet.db"), Options{DurableReplay: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := grant.UseOnce(t.Context(), s, grant.OnceID(grant.OnceDPoPProof, "k", "x"), now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, r := s.commits.Load(), s.relaxedCommits.Load(); c != 1 || r != 0 {
		t.Fatalf("DurableReplay: %d commits, %d relaxed; want 1, 0", c, r)
	}
}

// On one CPU (GOMAXPROCS=1, as the server runs in the benchmark) a commit
// that skips the flush never blocks, so concurrent claims group only
// because the slot's holder lets the ready writers queue first: 8 callers
// share commits rather than making one each.
func TestClaimsGroupOnOneCPU(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ctx := t.Context()
	now := time.Now()
	const callers, each = 8, 50
	before := s.commits.Load()
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				id := grant.OnceID(grant.OnceDPoPProof, "k", fmt.Sprint(c, "-", i))
				if err := grant.UseOnce(ctx, s, id, now, now.Add(time.Minute)); err != nil {
					errs[c] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	commits := s.commits.Load() - before
	t.Logf("%d claims, %d commits", callers*each, commits)
	if perCommit := float64(callers*each) / float64(commits); perCommit < 3 {
		t.Fatalf("%d claims by %d callers on one CPU made %d commits (%.1f per commit): no grouping", callers*each, callers, commits, perCommit)
	}
}
