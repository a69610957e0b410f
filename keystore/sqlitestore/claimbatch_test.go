package sqlitestore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// queueClaims queues one ClaimOnce per id while the write slot is held,
// then lets them commit as one batch, and returns each call's error.
func queueClaims(t *testing.T, s *Store, now time.Time, ids ...string) []error {
	t.Helper()
	errs := make([]error, len(ids))
	s.writer <- struct{}{} // a commit in progress
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			errs[i] = s.ClaimOnce(t.Context(), grant.Grant{ID: id, Kind: grant.KindJTI, Created: now, Expires: now.Add(time.Minute)})
		})
	}
	waitQueue(t, s, len(ids))
	<-s.writer
	wg.Wait()
	return errs
}

// The claims of one batch are one statement, not one each: 16 concurrent
// claims of distinct ids commit once, in one INSERT, and each is stored.
func TestClaimsOfABatchAreOneStatement(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path)
	now := time.Now()
	ids := make([]string, 16)
	for i := range ids {
		ids[i] = grant.OnceID(grant.OnceDPoPProof, "k", fmt.Sprint(i))
	}
	before, statements := s.commits.Load(), s.claimStatements.Load()
	if err := errors.Join(queueClaims(t, s, now, ids...)...); err != nil {
		t.Fatal(err)
	}
	if c, st := s.commits.Load()-before, s.claimStatements.Load()-statements; c != 1 || st != 1 {
		t.Fatalf("16 claims in one batch: %d commits, %d claim statements; want 1, 1", c, st)
	}
	// Each is stored: refused again, here and through another handle.
	other := open(t, path)
	for _, id := range ids {
		if err := grant.UseOnce(t.Context(), other, id, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
			t.Fatalf("replay of %s at another handle: %v, want ErrReplayed", id, err)
		}
	}
}

// Within one batch, an id claimed several times succeeds once, as if the
// claims came one after another: its repeats go into a later statement of
// the same transaction and find its row. A replay of an id claimed in an
// earlier batch, and an id held by a grant, are refused; the others in
// the statement are claimed.
func TestClaimReplayedInOneBatch(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	now := time.Now()
	old := grant.OnceID(grant.OnceClientAssertion, "client", "old")
	if err := grant.UseOnce(ctx, s, old, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	code := granttest.Grant("a-grant", now)
	if err := s.CreateGrant(ctx, code); err != nil {
		t.Fatal(err)
	}
	dup := grant.OnceID(grant.OnceClientAssertion, "client", "dup")
	fresh := grant.OnceID(grant.OnceClientAssertion, "client", "fresh")
	statements := s.claimStatements.Load()
	errs := queueClaims(t, s, now, dup, old, dup, fresh, code.ID, dup)
	won := 0
	for i, id := range []string{dup, old, dup, fresh, code.ID, dup} {
		switch {
		case id == dup && errs[i] == nil:
			won++
		case id == dup && !errors.Is(errs[i], grant.ErrExists):
			t.Errorf("claim %d of the repeated id: %v, want nil once, else ErrExists", i, errs[i])
		case id == fresh && errs[i] != nil:
			t.Errorf("claim of a fresh id beside replays: %v", errs[i])
		case id == old || id == code.ID:
			if !errors.Is(errs[i], grant.ErrExists) {
				t.Errorf("claim %d of %s, taken before the batch: %v, want ErrExists", i, id, errs[i])
			}
		}
	}
	if won != 1 {
		t.Fatalf("an id claimed 3 times in one batch succeeded %d times, want 1", won)
	}
	if st := s.claimStatements.Load() - statements; st != 3 {
		t.Fatalf("a batch holding an id 3 times: %d claim statements, want 3 (one per repeat)", st)
	}
	if err := grant.UseOnce(ctx, s, fresh, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay of the fresh id in a later batch: %v, want ErrReplayed", err)
	}
}

// An identifier expired at the claim's time is replaced by the batch
// statement (ON CONFLICT ... DO UPDATE), and the caller is told it is
// claimed.
func TestClaimBatchReplacesExpired(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
	then := time.Now().Add(-time.Hour)
	id := grant.OnceID(grant.OnceDPoPProof, "k", "reused")
	if err := grant.UseOnce(ctx, s, id, then, then.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	errs := queueClaims(t, s, now, id, grant.OnceID(grant.OnceDPoPProof, "k", "other"))
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("claims of an expired id and a new one in one batch: %v", err)
	}
	if err := grant.UseOnce(ctx, s, id, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay after the expired id was claimed again: %v, want ErrReplayed", err)
	}
}

// A batch of 5 claims runs the statement with room for 8: the 3 rows
// bound to NULL store nothing, and the 5 ids are stored. Batches of every
// size up to maxBatch use at most 7 statements (1, 2, 4, ..., 64 rows).
func TestClaimBatchPaddedStatement(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	now := time.Now()
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = grant.OnceID(grant.OnceDPoPProof, "k", fmt.Sprint("p", i))
	}
	if err := errors.Join(queueClaims(t, s, now, ids...)...); err != nil {
		t.Fatal(err)
	}
	var n, nulls int
	if err := s.db.QueryRowContext(t.Context(), `SELECT COUNT(*), COUNT(*) - COUNT(id) FROM once_ids`).Scan(&n, &nulls); err != nil {
		t.Fatal(err)
	}
	if n != 5 || nulls != 0 {
		t.Fatalf("a batch of 5 claims stored %d rows (%d without an id), want 5 (0)", n, nulls)
	}
	if len(s.claims) != 7 || 1<<(len(s.claims)-1) < maxBatch {
		t.Fatalf("%d claim statements for batches of up to %d", len(s.claims), maxBatch)
	}
	for i, st := range s.claims {
		if (st != nil) != (i == 3) {
			t.Errorf("claim statement for %d rows prepared: %v; want only the one for 8", 1<<i, st != nil)
		}
	}
}
