package pgstore

import (
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// TestUpgradeMovesIdentifiers: a schema at version 10, whose grants hold
// one-time identifiers, is migrated to once_ids (version 11) with nothing
// lost, and every claim after it writes once_ids only.
func TestUpgradeMovesIdentifiers(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := t.Context()
	conn := schemaAt(t, dsn, 10)
	insert := func(g grant.Grant) {
		t.Helper()
		if _, err := conn.Exec(ctx, insertGrant, grantArgs(g)...); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Truncate(time.Microsecond)
	live, expired, code := granttest.IdentifiersToMove(now)
	for _, g := range []grant.Grant{live, expired, code} {
		insert(g)
	}
	s := open(t, dsn)
	granttest.MovedIdentifiers(t, s, granttest.OnceTables{
		Rows: func(table, id string) (n int) {
			t.Helper()
			if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
		InsertGrant: insert,
	}, now, live, expired, code)
}
