// Package granttest is the conformance suite every grant.Store must pass.
package granttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// Run runs the suite. open returns a fresh, empty store each call.
func Run(t *testing.T, open func(t *testing.T) grant.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	mk := func(kind grant.Kind, handle string) grant.Grant {
		return grant.Grant{ID: grant.HashHandle(handle), Kind: kind, ClientID: "app", Subject: "alice",
			FamilyID: "fam-" + handle, SessionID: "sid", Data: []byte(`{"scope":"openid"}`),
			Created: now, Expires: now.Add(time.Minute)}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		g := mk(grant.KindRefreshToken, "h1")
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		got, err := s.Grant(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != g.ID || got.Kind != g.Kind || got.ClientID != g.ClientID || got.Subject != g.Subject ||
			got.FamilyID != g.FamilyID || got.SessionID != g.SessionID || string(got.Data) != string(g.Data) ||
			!got.Created.Equal(g.Created) || !got.Expires.Equal(g.Expires) || !got.Consumed.IsZero() || !got.Revoked.IsZero() {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, g)
		}
		if err := s.CreateGrant(ctx, g); !errors.Is(err, grant.ErrExists) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := s.Grant(ctx, "missing"); !errors.Is(err, grant.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		bad := g
		bad.ID, bad.Kind = "x", "bogus"
		if err := s.CreateGrant(ctx, bad); !errors.Is(err, grant.ErrInvalid) {
			t.Fatalf("invalid kind: %v", err)
		}
	})

	t.Run("ConsumeOnce", func(t *testing.T) {
		s := open(t)
		g := mk(grant.KindAuthorizationCode, "code")
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeGrant(ctx, g.ID, now); err != nil {
			t.Fatal(err)
		}
		got, err := s.ConsumeGrant(ctx, g.ID, now.Add(time.Second))
		if !errors.Is(err, grant.ErrConsumed) || got.ID != g.ID || got.FamilyID != g.FamilyID || !got.Consumed.Equal(now) {
			t.Fatalf("replay: %+v %v; want ErrConsumed with the grant", got, err)
		}
		if _, err := s.ConsumeGrant(ctx, "missing", now); !errors.Is(err, grant.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
	})

	t.Run("ConsumeConcurrent", func(t *testing.T) {
		s := open(t)
		g := mk(grant.KindAuthorizationCode, "race")
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := s.ConsumeGrant(ctx, g.ID, now); err == nil {
					wins.Add(1)
				} else if !errors.Is(err, grant.ErrConsumed) {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d consumers won, want exactly 1", wins.Load())
		}
	})

	t.Run("ExpiredAndRevoked", func(t *testing.T) {
		s := open(t)
		g := mk(grant.KindAuthorizationCode, "old")
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeGrant(ctx, g.ID, g.Expires); !errors.Is(err, grant.ErrExpired) {
			t.Fatalf("expired: %v", err)
		}
		r := mk(grant.KindRefreshToken, "rev")
		if err := s.CreateGrant(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeGrant(ctx, r.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeGrant(ctx, r.ID, now); !errors.Is(err, grant.ErrRevoked) {
			t.Fatalf("revoked: %v", err)
		}
		if got, _ := s.Grant(ctx, r.ID); !got.Revoked.Equal(now) {
			t.Fatalf("revoked time %s", got.Revoked)
		}
		if err := s.RevokeGrant(ctx, "missing", now); !errors.Is(err, grant.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
	})

	t.Run("RevokeFamilyAndSession", func(t *testing.T) {
		s := open(t)
		for i := range 3 {
			g := mk(grant.KindRefreshToken, fmt.Sprint("f", i))
			g.FamilyID = "family-1"
			g.SessionID = "s1"
			if err := s.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		other := mk(grant.KindRefreshToken, "other")
		other.FamilyID, other.SessionID = "family-2", "s2"
		if err := s.CreateGrant(ctx, other); err != nil {
			t.Fatal(err)
		}
		n, err := s.RevokeFamily(ctx, "family-1", now)
		if err != nil || n != 3 {
			t.Fatalf("revoke family: %d %v", n, err)
		}
		if n, _ := s.RevokeFamily(ctx, "family-1", now); n != 0 {
			t.Fatalf("revoking again changed %d", n)
		}
		if g, _ := s.Grant(ctx, other.ID); !g.Revoked.IsZero() {
			t.Fatal("another family was revoked")
		}
		if n, err := s.RevokeSession(ctx, "s2", now); err != nil || n != 1 {
			t.Fatalf("revoke session: %d %v", n, err)
		}
		if n, _ := s.RevokeFamily(ctx, "", now); n != 0 {
			t.Fatalf("empty family revoked %d", n)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		live := mk(grant.KindSession, "live")
		live.Expires = now.Add(time.Hour)
		dead := mk(grant.KindSession, "dead")
		dead.Expires = now.Add(time.Second)
		for _, g := range []grant.Grant{live, dead} {
			if err := s.CreateGrant(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpired(ctx, now.Add(time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("delete expired: %d %v", n, err)
		}
		if _, err := s.Grant(ctx, dead.ID); !errors.Is(err, grant.ErrNotFound) {
			t.Fatalf("expired grant still there: %v", err)
		}
		if _, err := s.Grant(ctx, live.ID); err != nil {
			t.Fatalf("live grant gone: %v", err)
		}
	})

	t.Run("RevokeSessionKind", func(t *testing.T) { revokeSessionKind(t, open(t), now) })
}

// Grant returns an authorization code grant for handle, created at now,
// expiring a minute later: a fixture for backend tests.
func Grant(handle string, now time.Time) grant.Grant {
	return grant.Grant{ID: grant.HashHandle(handle), Kind: grant.KindAuthorizationCode, ClientID: "app", Subject: "alice",
		Data: []byte(`{"scope":"openid"}`), Created: now, Expires: now.Add(time.Minute)}
}

// EveryWrite exercises every grant write once on an empty store (create,
// consume, a refused replay, revoke, revoke family and session, delete
// expired), for backend tests that watch what writes do (a revision, a
// failing connection).
func EveryWrite(ctx context.Context, s grant.Store, now time.Time) error {
	g := Grant("steps", now)
	g.FamilyID, g.SessionID = "fam", "sid"
	if err := s.CreateGrant(ctx, g); err != nil {
		return err
	}
	if _, err := s.ConsumeGrant(ctx, g.ID, now); err != nil {
		return err
	}
	if _, err := s.ConsumeGrant(ctx, g.ID, now); !errors.Is(err, grant.ErrConsumed) {
		return errors.Join(errors.New("replay not refused"), err)
	}
	if err := s.RevokeGrant(ctx, g.ID, now); err != nil {
		return err
	}
	if _, err := s.RevokeFamily(ctx, "fam", now); err != nil {
		return err
	}
	if _, err := s.RevokeSession(ctx, "sid", now); err != nil {
		return err
	}
	if n, err := s.DeleteExpired(ctx, now.Add(time.Hour)); err != nil || n != 1 {
		return errors.Join(errors.New("delete expired"), err)
	}
	return nil
}

// StoredInMicroseconds checks a store that keeps times in whole
// microseconds, in UTC (the SQL stores), with g (no data, family or
// session) created at now and stored: consuming returns the grant as it
// was; created and consumed come back truncated, in UTC; a second
// revocation keeps the first time.
func StoredInMicroseconds(t *testing.T, s grant.Store, g grant.Grant, now time.Time) {
	t.Helper()
	ctx := t.Context()
	got, err := s.ConsumeGrant(ctx, g.ID, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Consumed.IsZero() || got.Data != nil || got.FamilyID != "" || got.SessionID != "" {
		t.Errorf("ConsumeGrant returned %+v, want the grant as it was (unconsumed, no data, no family or session)", got)
	}
	if got.Created.Location() != time.UTC || !got.Created.Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("created = %s, want %s in UTC, whole microseconds", got.Created, now)
	}
	stored, err := s.Grant(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(time.Second).Truncate(time.Microsecond); !stored.Consumed.Equal(want) || stored.Consumed.Location() != time.UTC {
		t.Errorf("consumed = %s, want %s in UTC", stored.Consumed, want)
	}
	if err := s.RevokeGrant(ctx, g.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeGrant(ctx, g.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if stored, _ := s.Grant(ctx, g.ID); !stored.Revoked.Equal(now.Truncate(time.Microsecond)) {
		t.Errorf("revoked = %s after a second revocation, want the first, %s", stored.Revoked, now)
	}
}
