package pgstore

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// No index of grants reads consumed or revoked (schema version 12): its
// key columns, expressions and predicates. PostgreSQL updates a row in
// place (a heap-only tuple, no new index entries) only when no column an
// index reads changes, and grants_session_codes's predicate read
// consumed until version 12, so every rotation wrote a new entry into
// each of the table's six indexes.
func TestGrantIndexesSkipUseColumns(t *testing.T) {
	name, dsn := newSchema(t)
	open(t, dsn)
	rows, err := admin(t).Query(t.Context(), `SELECT i.indexrelid::regclass::text,
		array_to_string(ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)), ','),
		coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), coalesce(pg_get_expr(i.indpred, i.indrelid), '')
		FROM pg_index i WHERE i.indrelid = ($1 || '.grants')::regclass`, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var index, cols, exprs, pred string
		if err := rows.Scan(&index, &cols, &exprs, &pred); err != nil {
			t.Fatal(err)
		}
		n++
		for _, col := range []string{"consumed", "revoked"} {
			for _, part := range []string{cols, exprs, pred} {
				if containsWord(part, col) {
					t.Errorf("index %s reads %s (columns %q, expressions %q, predicate %q): no rotation can update in place", index, col, cols, exprs, pred)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Fatalf("grants has %d indexes, want at least 6 (the primary key and five)", n)
	}
}

// containsWord reports whether s holds w as an identifier of its own.
func containsWord(s, w string) bool {
	ident := func(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w && (i == 0 || !ident(s[i-1])) && (i+len(w) == len(s) || !ident(s[i+len(w)])) {
			return true
		}
	}
	return false
}

// Every rotation (refreshes and a code exchange) updates the used row in
// place: PostgreSQL counts each as a HOT update. On schema version 11
// none was.
func TestRotationsUpdateInPlace(t *testing.T) {
	name, dsn := newSchema(t)
	// One connection, closed before the counts are read: a backend
	// reports its table counts when it exits.
	s, err := Open(t.Context(), dsn, WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	now := time.Now()
	code := granttest.Code("sid-1", "code-1", now)
	if err := s.StartSession(ctx, grant.Grant{}, granttest.Session("sid-1", now), code); err != nil {
		t.Fatal(err)
	}
	const refreshes = 8
	if _, err := s.Rotate(ctx, code.ID, now, granttest.RefreshToken(code.FamilyID, 0, now)); err != nil {
		t.Fatal(err)
	}
	for i := range refreshes {
		if _, err := s.Rotate(ctx, granttest.RefreshToken(code.FamilyID, i, now).ID, now, granttest.RefreshToken(code.FamilyID, i+1, now)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	conn := admin(t)
	var updated, hot int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
			WHERE schemaname = $1 AND relname = 'grants'`, name).Scan(&updated, &hot); err != nil {
			t.Fatal(err)
		}
		if updated >= refreshes+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if updated != refreshes+1 {
		t.Fatalf("grants had %d rows updated, want %d (a code exchange and %d refreshes)", updated, refreshes+1, refreshes)
	}
	if hot != updated {
		t.Fatalf("%d of %d rotations updated the used row in place (HOT), want all: each other one wrote a new entry into every index of grants", hot, updated)
	}
}
