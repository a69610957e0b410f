package granttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

	t.Run("CodesPerSession", func(t *testing.T) { codesPerSession(t, open(t), now) })
	t.Run("CodesPerSessionConcurrent", func(t *testing.T) { CodesBoundConcurrent(t, now, open(t)) })
	t.Run("DeleteSessionCodes", func(t *testing.T) { deleteSessionCodes(t, open(t), now) })

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
	t.Run("HasRevocation", func(t *testing.T) { revocationReader(t, open(t), now) })
	runRotation(t, open, now)
	runOnce(t, open, now)
}

// Session returns the login session grant of sid, created at now,
// expiring an hour later.
func Session(sid string, now time.Time) grant.Grant {
	return grant.Grant{ID: grant.HashHandle("session:" + sid), Kind: grant.KindSession, Subject: "alice", SessionID: sid,
		Created: now, Expires: now.Add(time.Hour)}
}

// Code returns an authorization code of session sid for handle, created
// at created, expiring a minute later.
func Code(sid, handle string, created time.Time) grant.Grant {
	g := Grant(handle, created)
	g.SessionID, g.FamilyID = sid, "fam-"+handle
	return g
}

// present reports which of gs the store still holds.
func present(t *testing.T, s grant.Store, gs ...grant.Grant) []bool {
	t.Helper()
	out := make([]bool, len(gs))
	for i, g := range gs {
		_, err := s.Grant(t.Context(), g.ID)
		if err != nil && !errors.Is(err, grant.ErrNotFound) {
			t.Fatal(err)
		}
		out[i] = err == nil
	}
	return out
}

// codesPerSession: CreateCode keeps the newest keep unredeemed codes of a
// session, needs a live session, and validates what it stores.
func codesPerSession(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	for _, sid := range []string{"s1", "s2", "ended", "old"} {
		if err := s.CreateGrant(ctx, Session(sid, now)); err != nil {
			t.Fatal(err)
		}
	}
	other := Code("s2", "other", now)
	if _, err := s.CreateCode(ctx, other, 10); err != nil {
		t.Fatal(err)
	}
	var codes []grant.Grant
	for i := range 12 {
		c := Code("s1", fmt.Sprint("c", i), now.Add(time.Duration(i)*time.Microsecond))
		codes = append(codes, c)
		n, err := s.CreateCode(ctx, c, 10)
		if want := max(0, min(1, i-9)); err != nil || n != want {
			t.Fatalf("code %d: deleted %d, %v; want %d deleted", i, n, err, want)
		}
	}
	want := func(first int) {
		t.Helper()
		got := present(t, s, codes...)
		for i, ok := range got {
			if ok != (i >= first) {
				t.Fatalf("codes present %v, want the first %d deleted", got, first)
			}
		}
	}
	want(2)
	// A redeemed code no longer counts, and stays (replay detection).
	if _, err := s.ConsumeGrant(ctx, codes[2].ID, now); err != nil {
		t.Fatal(err)
	}
	codes = append(codes, Code("s1", "c12", now.Add(12*time.Microsecond)))
	if n, err := s.CreateCode(ctx, codes[12], 10); err != nil || n != 0 {
		t.Fatalf("after a redemption: deleted %d, %v; want 0", n, err)
	}
	codes = append(codes, Code("s1", "c13", now.Add(13*time.Microsecond)))
	if n, err := s.CreateCode(ctx, codes[13], 10); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v; want 1 (c3)", n, err)
	}
	if got := present(t, s, codes[2], codes[3], codes[4]); !got[0] || got[1] || !got[2] {
		t.Fatalf("c2 (redeemed), c3, c4 present %v; want true false true", got)
	}
	if !present(t, s, other)[0] {
		t.Fatal("another session's code was deleted")
	}
	// Equal creation times: the larger id is the newer.
	a, b := Code("s2", "tie-a", now.Add(time.Second)), Code("s2", "tie-b", now.Add(time.Second))
	for _, c := range []grant.Grant{a, b} {
		if _, err := s.CreateCode(ctx, c, 1); err != nil {
			t.Fatal(err)
		}
	}
	if got, keepA := present(t, s, a, b), a.ID > b.ID; got[0] != keepA || got[1] == keepA {
		t.Fatalf("tie: present %v, want only the larger id", got)
	}

	// The session must be live when the code is created.
	if err := s.RevokeGrant(ctx, Session("ended", now).ID, now); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]grant.Grant{
		"unknown": Code("nobody", "x1", now), "revoked": Code("ended", "x2", now), "expired": Code("old", "x3", now.Add(time.Hour)),
	} {
		if _, err := s.CreateCode(ctx, c, 10); !errors.Is(err, grant.ErrNoSession) {
			t.Errorf("%s session: %v, want ErrNoSession", name, err)
		}
		if present(t, s, c)[0] {
			t.Errorf("%s session: the code was stored", name)
		}
	}
	if _, err := s.CreateCode(ctx, codes[13], 10); !errors.Is(err, grant.ErrExists) {
		t.Errorf("duplicate: %v, want ErrExists", err)
	}
	refresh := Code("s1", "rt", now)
	refresh.Kind = grant.KindRefreshToken
	noSession := Code("", "ns", now)
	for name, tc := range map[string]struct {
		g    grant.Grant
		keep int
	}{"not a code": {refresh, 10}, "no session": {noSession, 10}, "keep 0": {Code("s1", "k0", now), 0}} {
		if _, err := s.CreateCode(ctx, tc.g, tc.keep); !errors.Is(err, grant.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// CodesBoundConcurrent creates 48 codes of one session concurrently
// through stores (handles on the same backing storage, used in turn),
// keeping 5: exactly the 5 newest remain.
func CodesBoundConcurrent(t *testing.T, now time.Time, stores ...grant.Store) {
	t.Helper()
	ctx := t.Context()
	if err := stores[0].CreateGrant(ctx, Session("busy", now)); err != nil {
		t.Fatal(err)
	}
	const n, keep = 48, 5
	codes := make([]grant.Grant, n)
	var wg sync.WaitGroup
	for i := range codes {
		codes[i] = Code("busy", fmt.Sprint("busy-", i), now.Add(time.Duration(i)*time.Microsecond))
		wg.Go(func() {
			if _, err := stores[i%len(stores)].CreateCode(ctx, codes[i], keep); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := present(t, stores[0], codes...)
	for i, ok := range got {
		if ok != (i >= n-keep) {
			t.Fatalf("after %d concurrent codes with keep %d, present: %v; want the newest %d", n, keep, got, keep)
		}
	}
}

// deleteSessionCodes: ending a session deletes its unredeemed codes and
// nothing else.
func deleteSessionCodes(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	for _, sid := range []string{"s1", "s2"} {
		if err := s.CreateGrant(ctx, Session(sid, now)); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c, other := Code("s1", "a", now), Code("s1", "b", now), Code("s1", "c", now), Code("s2", "o", now)
	for _, g := range []grant.Grant{a, b, c, other} {
		if _, err := s.CreateCode(ctx, g, 10); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ConsumeGrant(ctx, a.ID, now); err != nil {
		t.Fatal(err)
	}
	rt := Code("s1", "rt", now)
	rt.Kind = grant.KindRefreshToken
	if err := s.CreateGrant(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteSessionCodes(ctx, "s1"); err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	got := present(t, s, a, b, c, other, rt, Session("s1", now))
	if want := []bool{true, false, false, true, true, true}; !slices.Equal(got, want) {
		t.Fatalf("redeemed, b, c, other session's, refresh token, session present %v, want %v", got, want)
	}
	if n, err := s.DeleteSessionCodes(ctx, "s1"); err != nil || n != 0 {
		t.Fatalf("again: deleted %d, %v", n, err)
	}
	if n, err := s.DeleteSessionCodes(ctx, ""); err != nil || n != 0 {
		t.Fatalf("empty session: deleted %d, %v", n, err)
	}
}

// Grant returns an authorization code grant for handle, created at now,
// expiring a minute later: a fixture for backend tests.
func Grant(handle string, now time.Time) grant.Grant {
	return grant.Grant{ID: grant.HashHandle(handle), Kind: grant.KindAuthorizationCode, ClientID: "app", Subject: "alice",
		Data: []byte(`{"scope":"openid"}`), Created: now, Expires: now.Add(time.Minute)}
}

// EveryWrite exercises every grant write once on an empty store (create,
// consume, a refused replay, revoke, create and delete a session's codes,
// revoke family and session, delete expired), for backend tests that watch what writes do (a revision, a
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
	sess := Session("sid2", now)
	sess.Expires = now.Add(time.Minute)
	if err := s.CreateGrant(ctx, sess); err != nil {
		return err
	}
	if _, err := s.CreateCode(ctx, Code("sid2", "steps-code", now), 1); err != nil {
		return err
	}
	if n, err := s.DeleteSessionCodes(ctx, "sid2"); err != nil || n != 1 {
		return errors.Join(errors.New("delete session codes"), err)
	}
	if _, err := s.RevokeSession(ctx, "sid", now); err != nil {
		return err
	}
	if n, err := s.DeleteExpired(ctx, now.Add(time.Hour)); err != nil || n != 2 {
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
