package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/internal/sqlschema"
)

// Stores with their own pools stand for instances: an identifier used at
// one is refused at the other, and of concurrent uses across them exactly
// one succeeds.
func TestUseOnceAcrossInstances(t *testing.T) {
	_, dsn := newSchema(t)
	granttest.ReplayedAcrossHandles(t, open(t, dsn), open(t, dsn), open(t, dsn))
}

// TestUpgradeFromVersion3KeepsGrants: a schema at version 3 holding grants
// of every kind it knows migrates to the latest version with every row
// unchanged, and then accepts the new kinds and still refuses unknown ones.
func TestUpgradeFromVersion3KeepsGrants(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := t.Context()
	conn := schemaAt(t, dsn, 3)
	legacy := granttest.Legacy(time.Now())
	for _, g := range legacy {
		if _, err := conn.Exec(ctx, insertGrant, grantArgs(g)...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, insertGrant, grantArgs(grant.Grant{ID: "jti-before", Kind: grant.KindJTI, Created: time.Now(), Expires: time.Now()})...); err == nil {
		t.Fatal("a version 3 schema accepted kind jti: the fixture is not version 3")
	}

	s := open(t, dsn)
	var version int
	if err := s.pool.QueryRow(ctx, `SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if latest, _ := sqlschema.Latest(sqlschema.Postgres); version != latest || latest < 4 {
		t.Fatalf("schema version %d after the upgrade, want %d (at least 4)", version, latest)
	}
	granttest.UpgradedTakesNewKinds(t, s, legacy, func() (n int) {
		if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM grants`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	})
	now := time.Now()
	if _, err := s.pool.Exec(ctx, insertGrant, grantArgs(grant.Grant{ID: "bogus", Kind: "bogus", Created: now, Expires: now})...); err == nil {
		t.Error("the upgraded check accepts kind 'bogus'")
	}
}

// BenchmarkUseOnce reports statements/op too: below 1, concurrent claims
// shared statements.
func BenchmarkUseOnce(b *testing.B) {
	_, dsn := newSchema(b)
	s := open(b, dsn)
	before := s.claims.statements.Load()
	granttest.BenchmarkUseOnce(b, s)
	b.ReportMetric(float64(s.claims.statements.Load()-before)/float64(b.N), "statements/op")
}

// Concurrent claims on one Store are batched: claims that queue while
// another statement runs become one multi-row statement, each answered
// only after it; the second claim of an id waits for the next statement.
func TestClaimOnceBatches(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	granttest.ClaimsBatched(t, s, granttest.Batcher{
		Hold:    func() { s.claims.slot <- struct{}{} },
		Release: func() { <-s.claims.slot },
		Queued: func() int {
			s.claims.mu.Lock()
			defer s.claims.mu.Unlock()
			return len(s.claims.queue)
		},
		Batches: s.claims.statements.Load,
	}, 2)
}

// A claim waiting for a batch gives up with its caller's context, while
// the batch in progress goes on; the id it queued is spent, not granted.
func TestClaimOnceWaitEndsWithContext(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	now := time.Now()
	s.claims.slot <- struct{}{} // a batch in progress
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- grant.UseOnce(ctx, s, "waiting", now, now.Add(time.Minute)) }()
	for {
		s.claims.mu.Lock()
		q := len(s.claims.queue)
		s.claims.mu.Unlock()
		if q == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiting claim whose context ended: %v, want context.Canceled", err)
	}
	<-s.claims.slot
	if err := grant.UseOnce(t.Context(), s, "waiting", now, now.Add(time.Minute)); err != nil && !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("the id after its claim gave up: %v", err)
	}
}

// schemaAt returns a connection to the new schema of dsn migrated to
// version only, as an older Signet left it.
func schemaAt(t *testing.T, dsn string, version int) *pgx.Conn {
	t.Helper()
	ctx := t.Context()
	ms, err := sqlschema.Migrations(sqlschema.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, createSchemaVersion); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:version] {
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}
