package sqlitestore

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// TestUpgradeMovesIdentifiers: a database at version 10, whose grants
// hold one-time identifiers, is migrated to once_ids (version 11) with
// nothing lost, and every claim after it writes once_ids only.
func TestUpgradeMovesIdentifiers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	ctx := t.Context()
	db := schemaAt(t, path, 10)
	insert := func(g grant.Grant) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `INSERT INTO grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, string(g.Kind), g.ClientID, g.Subject, nullText(g.FamilyID), nullText(g.SessionID), dataArg(g.Data),
			micros(g.Created), micros(g.Expires), nullMicros(g.Consumed), nullMicros(g.Revoked)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Truncate(time.Microsecond)
	live, expired, code := granttest.IdentifiersToMove(now)
	for _, g := range []grant.Grant{live, expired, code} {
		insert(g)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	granttest.MovedIdentifiers(t, s, granttest.OnceTables{
		Rows: func(table, id string) (n int) {
			t.Helper()
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = ?`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		},
		InsertGrant: func(g grant.Grant) {
			t.Helper()
			if _, err := s.db.ExecContext(ctx, `INSERT INTO grants (`+grantColumns+`) VALUES (?, 'jti', '', '', NULL, NULL, X'', ?, ?, NULL, NULL)`,
				g.ID, micros(g.Created), micros(g.Expires)); err != nil {
				t.Fatal(err)
			}
		},
	}, now, live, expired, code)
}
