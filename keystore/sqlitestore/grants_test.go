package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore/storetest"
)

func TestGrantConformance(t *testing.T) {
	granttest.Run(t, func(t *testing.T) grant.Store {
		return open(t, filepath.Join(t.TempDir(), "signet.db"))
	})
}

// Grant writes must not look like key changes: instances poll the
// revision to reload their keys.
func TestGrantWritesDoNotBumpRevision(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	ctx := t.Context()
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
		t.Fatalf("grant writes moved the revision from %s to %s", before, after)
	}
	// The revision still moves with a key write.
	if err := s.CreateKey(ctx, storetest.NewRecord()); err != nil {
		t.Fatal(err)
	}
	if rev, _ := s.Revision(ctx); rev == after {
		t.Fatalf("a key write left the revision at %s", rev)
	}
}

// Handles with their own connections consume one grant as separate
// processes would: exactly one wins, every other sees ErrConsumed with
// the grant.
func TestConsumeOnceAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	stores := []*Store{open(t, path), open(t, path), open(t, path)}
	ctx := t.Context()
	now := time.Now()
	for round := range 5 {
		g := granttest.Grant("race-"+string(rune('a'+round)), now)
		if err := stores[0].CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
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
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d consumers won, want exactly 1", round, wins.Load())
		}
	}
}

func TestGrantStorage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path)
	ctx := t.Context()
	local := time.FixedZone("UTC+3", 3*3600)
	now := time.Date(2025, 3, 1, 12, 0, 0, 123456789, local)
	g := granttest.Grant("plain", now)
	g.Data = nil
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	// Unset family and session are NULL (their indexes are partial); the
	// handle itself is never stored, only its hash.
	var family, session sql.NullString
	var dataType string
	if err := rawDB(t, path).QueryRowContext(ctx, `SELECT family_id, session_id, typeof(data) || length(data) FROM grants WHERE id = ?`, g.ID).Scan(&family, &session, &dataType); err != nil {
		t.Fatal(err)
	}
	if family.Valid || session.Valid || dataType != "blob0" {
		t.Errorf("stored family %v, session %v, data %s: want NULL, NULL, an empty blob", family, session, dataType)
	}

	granttest.StoredInMicroseconds(t, s, g, now)
}

func TestGrantErrors(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	now := time.Now()
	bad := granttest.Grant("bad", now)
	bad.Expires = now.Add(-time.Second)
	err := s.CreateGrant(t.Context(), bad)
	if !errors.Is(err, grant.ErrInvalid) || !strings.HasPrefix(err.Error(), "sqlitestore: create grant: ") {
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
}

// Handles with their own connections, as separate processes would, keep
// a session's unredeemed codes within the bound.
func TestCodesBoundAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	granttest.CodesBoundConcurrent(t, time.Now().UTC().Truncate(time.Microsecond), open(t, path), open(t, path), open(t, path))
}
