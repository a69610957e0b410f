package sqlitestore

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/internal/sqlschema"
)

// Handles with their own connections stand for processes: an identifier
// used through one is refused through another, and of concurrent uses
// across them exactly one succeeds.
func TestUseOnceAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	granttest.ReplayedAcrossHandles(t, open(t, path), open(t, path), open(t, path))
}

// TestUpgradeFromVersion3KeepsGrants: a database at version 3 holding
// grants of every kind it knows is rebuilt by migration 4 with every row
// unchanged and every index in place, and then accepts the new kinds and
// still refuses unknown ones.
func TestUpgradeFromVersion3KeepsGrants(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	ctx := t.Context()
	db := schemaAt(t, path, 3)
	insert := `INSERT INTO grants (` + grantColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := func(g grant.Grant) []any {
		return []any{g.ID, string(g.Kind), g.ClientID, g.Subject, nullText(g.FamilyID), nullText(g.SessionID), dataArg(g.Data),
			micros(g.Created), micros(g.Expires), nullMicros(g.Consumed), nullMicros(g.Revoked)}
	}
	legacy := granttest.Legacy(time.Now())
	for _, g := range legacy {
		if _, err := db.ExecContext(ctx, insert, args(g)...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, insert, args(grant.Grant{ID: "jti-before", Kind: grant.KindJTI, Created: time.Now(), Expires: time.Now()})...); err == nil {
		t.Fatal("a version 3 database accepted kind jti: the fixture is not version 3")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	var version int
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if latest, _ := sqlschema.Latest(sqlschema.SQLite); version != latest || latest < 4 {
		t.Fatalf("schema version %d after the upgrade, want %d (at least 4)", version, latest)
	}
	granttest.UpgradedTakesNewKinds(t, s, legacy, func() (n int) {
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	})
	var objects []string
	res, err := s.db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE tbl_name = 'grants' OR name LIKE 'grants%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for res.Next() {
		var n string
		_ = res.Scan(&n)
		objects = append(objects, n)
	}
	res.Close()
	want := []string{"grants", "grants_expires", "grants_family", "grants_session", "grants_session_codes", "grants_subject", "sqlite_autoindex_grants_1"}
	if !slices.Equal(objects, want) {
		t.Fatalf("objects of grants after the upgrade: %v, want %v", objects, want)
	}
	now := time.Now()
	if _, err := s.db.ExecContext(ctx, insert, args(grant.Grant{ID: "bogus", Kind: "bogus", Created: now, Expires: now})...); err == nil {
		t.Error("the upgraded check accepts kind 'bogus'")
	}
}

// BenchmarkUseOnce reports commits/op too: below 1, concurrent claims
// shared a transaction and its fsync.
func BenchmarkUseOnce(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "signet.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	before := s.commits.Load()
	granttest.BenchmarkUseOnce(b, s)
	b.ReportMetric(float64(s.commits.Load()-before)/float64(b.N), "commits/op")
}

// schemaAt returns a raw handle on a new database at path migrated to
// version only, as an older Signet left it.
func schemaAt(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	ms, err := sqlschema.Migrations(sqlschema.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(t.Context(), createSchemaVersion); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:version] {
		if _, err := db.ExecContext(t.Context(), m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := db.ExecContext(t.Context(), `INSERT INTO schema_version (version, applied_us) VALUES (?, 0)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
