package pgstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	ms, err := sqlschema.Migrations(sqlschema.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, createSchemaVersion); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		if _, err := conn.Exec(ctx, m.SQL); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.Version); err != nil {
			t.Fatal(err)
		}
	}
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

func BenchmarkUseOnce(b *testing.B) {
	_, dsn := newSchema(b)
	granttest.BenchmarkUseOnce(b, open(b, dsn))
}

// Concurrent claims on one Store are batched: claims that queue while
// another statement runs become one multi-row statement, each answered
// only after it; a taken id in the batch is refused alone, and of two
// claims of one id in the queue exactly one succeeds (the second waits for
// the next statement and sees the first's row).
func TestClaimOnceBatches(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	ctx := t.Context()
	now := time.Now()
	exp := now.Add(time.Minute)
	if err := grant.UseOnce(ctx, s, "taken", now, exp); err != nil {
		t.Fatal(err)
	}
	const n = 32
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("jti-%d", i)
	}
	ids[7] = "taken"
	ids[9] = ids[3]             // two claims of one id in the queue
	s.claims.slot <- struct{}{} // a batch in progress
	before := s.claims.statements.Load()
	errs := make([]error, n)
	var answered atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = grant.UseOnce(ctx, s, ids[i], now, exp)
			answered.Add(1)
		})
	}
	for {
		s.claims.mu.Lock()
		q := len(s.claims.queue)
		s.claims.mu.Unlock()
		if q == n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if a := answered.Load(); a != 0 {
		t.Fatalf("%d claims answered before any statement", a)
	}
	<-s.claims.slot // the batch in progress ends
	wg.Wait()
	if c := s.claims.statements.Load() - before; c != 2 {
		t.Fatalf("%d concurrent claims (one id twice) made %d statements, want 2", n, c)
	}
	for i, err := range errs {
		switch i {
		case 7:
			if !errors.Is(err, grant.ErrReplayed) {
				t.Errorf("claim of the taken id: %v, want ErrReplayed", err)
			}
		case 3, 9:
		default:
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
			if g, err := s.Grant(ctx, ids[i]); err != nil || g.Kind != grant.KindJTI || !g.Expires.Equal(exp.UTC().Truncate(time.Microsecond)) {
				t.Errorf("claim %d stored %+v, %v", i, g, err)
			}
		}
	}
	if (errs[3] == nil) == (errs[9] == nil) {
		t.Errorf("two claims of one id: %v and %v, want exactly one success", errs[3], errs[9])
	}
	for _, err := range []error{errs[3], errs[9]} {
		if err != nil && !errors.Is(err, grant.ErrReplayed) {
			t.Errorf("the losing claim of one id: %v, want ErrReplayed", err)
		}
	}
}
