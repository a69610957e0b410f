package granttest

import (
	"errors"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// OnceTables gives the checks of MovedIdentifiers access to a SQL store's
// tables.
type OnceTables struct {
	// Rows counts the rows of table ("grants" or "once_ids") with id.
	Rows func(table, id string) int
	// InsertGrant writes g into grants directly, as a store of schema
	// version 10 or older claimed identifiers.
	InsertGrant func(g grant.Grant)
}

// IdentifiersToMove returns what MovedIdentifiers expects a store of
// schema version 10 to hold in grants before its upgrade: a one-time
// identifier live at now, one expired before now, and an authorization
// code that expires an hour after now.
func IdentifiersToMove(now time.Time) (live, expired, code grant.Grant) {
	live = grant.Grant{ID: grant.OnceID(grant.OnceClientAssertion, "app", "live"), Kind: grant.KindJTI, Created: now.Add(-time.Minute), Expires: now.Add(time.Minute)}
	expired = grant.Grant{ID: grant.OnceID(grant.OnceDPoPProof, "jkt", "expired"), Kind: grant.KindJTI, Created: now.Add(-2 * time.Minute), Expires: now.Add(-time.Minute)}
	code = Grant("code", now)
	code.Expires = now.Add(time.Hour)
	return live, expired, code
}

// MovedIdentifiers checks s, a store just migrated to schema version 11
// from one whose grants held the one-time identifiers live (expiring
// after now) and expired (expired before now), and the authorization
// code code:
//   - both identifiers were moved to once_ids with their times and left
//     grants; the code stayed;
//   - live is still refused (a replay across the upgrade), expired may be
//     used again;
//   - new claims write once_ids only;
//   - an identifier an older instance still claimed in grants after the
//     upgrade stays refused, even expired, until the cleaner deletes it;
//   - DeleteExpired deletes expired identifiers of both tables.
func MovedIdentifiers(t *testing.T, s grant.Store, tb OnceTables, now time.Time, live, expired grant.Grant, code grant.Grant) {
	t.Helper()
	ctx := t.Context()
	for _, g := range []grant.Grant{live, expired} {
		if n, m := tb.Rows("grants", g.ID), tb.Rows("once_ids", g.ID); n != 0 || m != 1 {
			t.Fatalf("identifier %s after the upgrade: %d rows in grants, %d in once_ids; want 0 and 1", g.ID, n, m)
		}
		got, err := s.Grant(ctx, g.ID)
		if err != nil || got.Kind != grant.KindJTI || !got.Created.Equal(g.Created) || !got.Expires.Equal(g.Expires) {
			t.Fatalf("identifier %s after the upgrade: %+v, %v; want kind jti from %s until %s", g.ID, got, err, g.Created, g.Expires)
		}
	}
	if got, err := s.Grant(ctx, code.ID); err != nil || got.Kind != grant.KindAuthorizationCode || tb.Rows("grants", code.ID) != 1 {
		t.Fatalf("the code after the upgrade: %+v, %v", got, err)
	}
	if err := grant.UseOnce(ctx, s, live.ID, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay of an identifier used before the upgrade: %v, want ErrReplayed", err)
	}
	if err := grant.UseOnce(ctx, s, expired.ID, now, now.Add(time.Minute)); err != nil {
		t.Fatalf("use of an identifier expired before the upgrade: %v", err)
	}
	fresh := grant.OnceID(grant.OnceDPoPProof, "jkt", "after-upgrade")
	if err := grant.UseOnce(ctx, s, fresh, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, m := tb.Rows("grants", fresh), tb.Rows("once_ids", fresh); n != 0 || m != 1 {
		t.Fatalf("a new claim: %d rows in grants, %d in once_ids; want 0 and 1", n, m)
	}
	straggler := grant.Grant{ID: grant.OnceID(grant.OnceClientAssertion, "app", "old-instance"), Kind: grant.KindJTI,
		Created: now.Add(-2 * time.Minute), Expires: now.Add(-time.Minute)}
	tb.InsertGrant(straggler)
	if err := grant.UseOnce(ctx, s, straggler.ID, now, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("an identifier claimed in grants by an older instance: %v, want ErrReplayed until the cleaner deletes it", err)
	}
	n, err := s.DeleteExpired(ctx, now.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{live.ID, expired.ID, fresh, straggler.ID} {
		if tb.Rows("grants", id)+tb.Rows("once_ids", id) != 0 {
			t.Errorf("identifier %s left after DeleteExpired (%d deleted)", id, n)
		}
	}
	if err := grant.UseOnce(ctx, s, straggler.ID, now.Add(3*time.Minute), now.Add(4*time.Minute)); err != nil {
		t.Fatalf("the older instance's identifier once deleted: %v", err)
	}
	if tb.Rows("grants", code.ID) != 1 {
		t.Fatal("DeleteExpired deleted the unexpired code")
	}
}
