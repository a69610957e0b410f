package granttest

import (
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// revokeSessionKind checks grant.SessionKindRevoker: only the grants of
// the kind and session asked for are revoked, once.
func revokeSessionKind(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	r, ok := s.(grant.SessionKindRevoker)
	if !ok {
		t.Fatalf("%T does not implement grant.SessionKindRevoker", s)
	}
	mk := func(handle string, kind grant.Kind, sid string) grant.Grant {
		g := grant.Grant{ID: grant.HashHandle(handle), Kind: kind, ClientID: "app", Subject: "alice", SessionID: sid,
			Created: now, Expires: now.Add(time.Minute)}
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	sess := mk("session", grant.KindSession, "sid-1")
	refresh := mk("refresh", grant.KindRefreshToken, "sid-1")
	other := mk("other-session", grant.KindSession, "sid-2")
	if n, err := r.RevokeSessionKind(ctx, "sid-1", grant.KindSession, now); err != nil || n != 1 {
		t.Fatalf("RevokeSessionKind = %d, %v; want 1", n, err)
	}
	if n, err := r.RevokeSessionKind(ctx, "sid-1", grant.KindSession, now); err != nil || n != 0 {
		t.Fatalf("second RevokeSessionKind = %d, %v; want 0", n, err)
	}
	if n, err := r.RevokeSessionKind(ctx, "", grant.KindSession, now); err != nil || n != 0 {
		t.Fatalf("RevokeSessionKind of no session = %d, %v; want 0", n, err)
	}
	for _, c := range []struct {
		g       grant.Grant
		revoked bool
	}{{sess, true}, {refresh, false}, {other, false}} {
		got, err := s.Grant(ctx, c.g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Revoked.IsZero() != c.revoked {
			t.Errorf("%s of %s: revoked %v, want %v", got.Kind, got.SessionID, !got.Revoked.IsZero(), c.revoked)
		}
	}
}
