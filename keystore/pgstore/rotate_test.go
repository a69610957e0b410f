package pgstore

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
)

// queryCounter counts the statements (round trips) a pool sends.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A rotation (a refresh, a code exchange) is one statement, one round trip
// to PostgreSQL: it was five (BEGIN, UPDATE, INSERT, DELETE, COMMIT), each
// a wait for the database while the request held its connection. The
// granttest Rotate suites check what it does.
func TestRotateOneStatement(t *testing.T) {
	_, dsn := newSchema(t)
	var qc queryCounter
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = &qc }))
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateGrant(ctx, granttest.RefreshToken("fam-1", 0, now)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		before := qc.n.Load()
		if _, err := s.Rotate(ctx, granttest.RefreshToken("fam-1", i, now).ID, now, granttest.RefreshToken("fam-1", i+1, now)); err != nil {
			t.Fatal(err)
		}
		if n := qc.n.Load() - before; n != 1 {
			t.Fatalf("rotation %d sent %d statements, want 1", i, n)
		}
	}
	if n := granttest.FamilyRows(t, s, "fam-1"); n != 2 {
		t.Fatalf("family has %d rows after 3 rotations, want 2 (the token just rotated and the current one)", n)
	}
}

// A new browser's sign-in stores its session and first code in one
// statement (was four: BEGIN, INSERT, INSERT, COMMIT); a taken id stores
// neither.
func TestStartSessionOneStatement(t *testing.T) {
	_, dsn := newSchema(t)
	var qc queryCounter
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = &qc }))
	ctx := t.Context()
	now := time.Now()
	sess := granttest.Session("sid-1", now)
	code := granttest.Code("sid-1", "code-1", now)
	before := qc.n.Load()
	if err := s.StartSession(ctx, grant.Grant{}, sess, code); err != nil {
		t.Fatal(err)
	}
	if n := qc.n.Load() - before; n != 1 {
		t.Fatalf("starting a session sent %d statements, want 1", n)
	}
	for _, id := range []string{sess.ID, code.ID} {
		if _, err := s.Grant(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	code2 := granttest.Code("sid-1", "code-2", now)
	if err := s.StartSession(ctx, grant.Grant{}, sess, code2); !errors.Is(err, grant.ErrExists) {
		t.Fatalf("a taken session id: %v, want grant.ErrExists", err)
	}
	if _, err := s.Grant(ctx, code2.ID); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("the code of a refused start: %v, want not found", err)
	}
}
