package pgstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore"
)

func TestGrantConformance(t *testing.T) {
	serverDSN(t)
	granttest.Run(t, func(t *testing.T) grant.Store {
		_, dsn := newSchema(t)
		return open(t, dsn)
	})
}

// Grant writes must not look like key changes: every instance LISTENs and
// polls the revision to reload its keys.
func TestGrantWritesNeitherBumpRevisionNorNotify(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	ctx := t.Context()
	ch, err := open(t, dsn).Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := granttest.EveryWrite(ctx, s, time.Now()); err != nil {
		t.Fatal(err)
	}
	after, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("grant writes moved the revision from %s to %s", before, after)
	}
	// A notification sent by the grant writes would arrive before the
	// one of this key write: the watch connection delivers in order.
	if err := s.SetMeta(ctx, "marker", "1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification for a key write within 10s")
	}
	select {
	case <-ch:
		t.Fatal("grant writes sent notifications")
	case <-time.After(300 * time.Millisecond):
	}
}

// Stores with their own pools stand for instances: exactly one consumer
// of a grant wins across them, every other sees ErrConsumed with the
// grant.
func TestConsumeOnceAcrossInstances(t *testing.T) {
	_, dsn := newSchema(t)
	small := WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 4 })
	stores := []*Store{open(t, dsn, small), open(t, dsn, small), open(t, dsn, small)}
	ctx := t.Context()
	now := time.Now()
	for round := range 5 {
		g := granttest.Grant("race-"+string(rune('a'+round)), now)
		if err := stores[0].CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				<-start
				got, err := stores[i%len(stores)].ConsumeGrant(ctx, g.ID, now)
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, grant.ErrConsumed):
					t.Errorf("consumer %d: %v", i, err)
				case got.ID != g.ID || got.Consumed.IsZero():
					t.Errorf("consumer %d: replay returned %+v, want the consumed grant", i, got)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d consumers won, want exactly 1", round, wins.Load())
		}
	}
}

func TestGrantStorage(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	ctx := t.Context()
	local := time.FixedZone("UTC+3", 3*3600)
	now := time.Date(2025, 3, 1, 12, 0, 0, 123456789, local)
	g := granttest.Grant("plain", now)
	g.Data = nil
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	// Unset family and session are NULL (their indexes are partial).
	var familyNull, sessionNull bool
	var dataLen int
	if err := s.pool.QueryRow(ctx, `SELECT family_id IS NULL, session_id IS NULL, length(data) FROM grants WHERE id = $1`, g.ID).
		Scan(&familyNull, &sessionNull, &dataLen); err != nil {
		t.Fatal(err)
	}
	if !familyNull || !sessionNull || dataLen != 0 {
		t.Errorf("family NULL %v, session NULL %v, data length %d: want NULL, NULL, empty", familyNull, sessionNull, dataLen)
	}

	granttest.StoredInMicroseconds(t, s, g, now)
}

func TestGrantErrors(t *testing.T) {
	schema, dsn := newSchema(t)
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 }))
	now := time.Now()
	bad := granttest.Grant("bad", now)
	bad.Expires = now.Add(-time.Second)
	err := s.CreateGrant(t.Context(), bad)
	if !errors.Is(err, grant.ErrInvalid) || !strings.HasPrefix(err.Error(), "pgstore: create grant: ") {
		t.Errorf("invalid grant: %v, want grant.ErrInvalid with the package prefix", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	g := granttest.Grant("ctx", now)
	checks := map[string]error{
		"create":  s.CreateGrant(ctx, g),
		"revoke":  s.RevokeGrant(ctx, g.ID, now),
		"consume": func() error { _, err := s.ConsumeGrant(ctx, g.ID, now); return err }(),
		"grant":   func() error { _, err := s.Grant(ctx, g.ID); return err }(),
		"family":  func() error { _, err := s.RevokeFamily(ctx, "f", now); return err }(),
		"session": func() error { _, err := s.RevokeSession(ctx, "s", now); return err }(),
		"delete":  func() error { _, err := s.DeleteExpired(ctx, now); return err }(),
	}
	for op, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a done context: %v, want context.Canceled", op, err)
		}
	}
	if _, err := s.Grant(t.Context(), g.ID); !errors.Is(err, grant.ErrNotFound) {
		t.Errorf("a create with a done context stored the grant: %v", err)
	}

	// A broken connection is an outage, not a refusal.
	if err := s.CreateGrant(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	terminate(t, schema, "INSERT INTO grants")
	if _, err := s.ConsumeGrant(t.Context(), g.ID, now); !errors.Is(err, keystore.ErrUnavailable) {
		t.Errorf("ConsumeGrant on a terminated connection: %v, want keystore.ErrUnavailable", err)
	}
	if _, err := s.ConsumeGrant(t.Context(), g.ID, now); err != nil {
		t.Errorf("ConsumeGrant after the pool replaced the connection: %v", err)
	}
}

// Pools of their own, as separate instances would have, keep a session's
// unredeemed codes within the bound.
func TestCodesBoundAcrossInstances(t *testing.T) {
	_, dsn := newSchema(t)
	granttest.CodesBoundConcurrent(t, time.Now().UTC().Truncate(time.Microsecond), open(t, dsn), open(t, dsn), open(t, dsn))
}
