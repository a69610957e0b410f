package granttest

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// runOnce checks one-time identifiers (UseOnce, ClaimOnce) and pushed
// authorization requests.
func runOnce(t *testing.T, open func(t *testing.T) grant.Store, now time.Time) {
	t.Run("UseOnce", func(t *testing.T) { useOnce(t, open(t), now) })
	t.Run("UseOnceAfterExpiry", func(t *testing.T) { useOnceAfterExpiry(t, open(t), now) })
	t.Run("UseOnceConcurrent", func(t *testing.T) { UseOnceConcurrent(t, now, open(t)) })
	t.Run("PushedRequestOnce", func(t *testing.T) { pushedRequestOnce(t, open(t), now) })
	t.Run("DeleteExpiredOnceAndPushed", func(t *testing.T) { deleteExpiredOnceAndPushed(t, open(t), now) })
}

// useOnce: a second use of an identifier is a replay; the same jti in
// another namespace or of another client is another identifier; refused
// uses store nothing.
func useOnce(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	id := grant.OnceID(grant.OnceClientAssertion, "app", "jti-1")
	exp := now.Add(time.Minute)
	if err := grant.UseOnce(ctx, s, id, now, exp); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, s, id, now.Add(time.Second), exp); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("second use: %v, want ErrReplayed", err)
	}
	g, err := s.Grant(ctx, id)
	if err != nil || g.Kind != grant.KindJTI || !g.Expires.Equal(exp) || !g.Created.Equal(now) {
		t.Fatalf("stored %+v, %v; want a jti grant from now until exp", g, err)
	}
	for _, other := range []string{grant.OnceID(grant.OnceDPoPProof, "app", "jti-1"), grant.OnceID(grant.OnceClientAssertion, "other-app", "jti-1")} {
		if err := grant.UseOnce(ctx, s, other, now, exp); err != nil {
			t.Errorf("the same jti in another namespace or of another client: %v", err)
		}
	}
	// A one-time identifier never takes the place of another grant.
	code := Grant("code-handle", now)
	if err := s.CreateGrant(ctx, code); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, s, code.ID, code.Expires.Add(time.Second), code.Expires.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Errorf("use of an expired code's id: %v, want ErrReplayed", err)
	}
	if g, err := s.Grant(ctx, code.ID); err != nil || g.Kind != grant.KindAuthorizationCode {
		t.Errorf("the code became %+v, %v", g, err)
	}
	// Refusals store nothing.
	for name, tc := range map[string]struct {
		exp  time.Time
		want error
	}{
		"expired":      {now, grant.ErrExpired},
		"too long":     {now.Add(grant.MaxOnceLifetime + time.Second), grant.ErrInvalid},
		"long expired": {now.Add(-time.Hour), grant.ErrExpired},
		"at the limit": {now.Add(grant.MaxOnceLifetime), nil},
	} {
		rid := grant.OnceID(grant.OnceRequestObject, "app", name)
		err := grant.UseOnce(ctx, s, rid, now, tc.exp)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if _, gerr := s.Grant(ctx, rid); (gerr == nil) != (tc.want == nil) {
			t.Errorf("%s: stored %v, want %v", name, gerr == nil, tc.want == nil)
		}
	}
	// ClaimOnce stores identifiers only.
	notJTI := Grant("claim-code", now)
	if err := grant.ClaimOnce(ctx, s, notJTI); !errors.Is(err, grant.ErrInvalid) {
		t.Errorf("ClaimOnce of a code: %v, want ErrInvalid", err)
	}
}

// useOnceAfterExpiry: once its token expired, an identifier may be used
// again though its row is still stored (in a grant.OnceClaimer; in
// another store only once DeleteExpired removed the row); the row then
// holds the new use.
func useOnceAfterExpiry(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	id := grant.OnceID(grant.OnceDPoPProof, "jkt", "reused")
	exp := now.Add(time.Minute)
	if err := grant.UseOnce(ctx, s, id, now, exp); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, s, id, exp.Add(-time.Microsecond), exp.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("a microsecond before exp: %v, want ErrReplayed", err)
	}
	if _, ok := s.(grant.OnceClaimer); !ok {
		if err := grant.UseOnce(ctx, s, id, exp, exp.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
			t.Fatalf("at exp, the row still stored, without ClaimOnce: %v, want ErrReplayed", err)
		}
		if _, err := s.DeleteExpired(ctx, exp.Add(time.Microsecond)); err != nil {
			t.Fatal(err)
		}
	}
	if err := grant.UseOnce(ctx, s, id, exp, exp.Add(time.Minute)); err != nil {
		t.Fatalf("at exp: %v, want the identifier usable again", err)
	}
	if g, err := s.Grant(ctx, id); err != nil || !g.Created.Equal(exp) || !g.Expires.Equal(exp.Add(time.Minute)) {
		t.Fatalf("after the new use: %+v, %v", g, err)
	}
	if err := grant.UseOnce(ctx, s, id, exp.Add(time.Second), exp.Add(2*time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay of the new use: %v, want ErrReplayed", err)
	}
}

// UseOnceConcurrent uses one identifier from 32 goroutines through stores
// (handles on the same backing storage, used in turn): exactly one
// succeeds, every other sees ErrReplayed. Then, in a grant.OnceClaimer,
// the same for an identifier whose earlier use expired: exactly one
// replaces it.
func UseOnceConcurrent(t *testing.T, now time.Time, stores ...grant.Store) {
	t.Helper()
	ctx := t.Context()
	race := func(id string, at time.Time) {
		t.Helper()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Go(func() {
				switch err := grant.UseOnce(ctx, stores[i%len(stores)], id, at, at.Add(time.Minute)); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, grant.ErrReplayed):
					t.Errorf("use %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 32 concurrent uses of one identifier succeeded, want exactly 1", wins.Load())
		}
	}
	race(grant.OnceID(grant.OnceDPoPProof, "jkt", "race"), now)
	if _, ok := stores[0].(grant.OnceClaimer); !ok {
		return // without ClaimOnce, an expired use stays until deleted
	}
	old := grant.OnceID(grant.OnceClientAssertion, "app", "expired-race")
	if err := grant.UseOnce(ctx, stores[0], old, now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	race(old, now)
}

// pushedRequestOnce: a pushed authorization request is stored with its
// JSON and consumed once; an expired one is refused.
func pushedRequestOnce(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	req := `{"client_id":"app","redirect_uri":"https://app.example/cb","code_challenge":"x","code_challenge_method":"S256"}`
	par := grant.Grant{ID: grant.HashHandle("urn:ietf:params:oauth:request_uri:abc"), Kind: grant.KindPushedRequest, ClientID: "app",
		Data: []byte(req), Created: now, Expires: now.Add(time.Minute)}
	if err := s.CreateGrant(ctx, par); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeGrant(ctx, par.ID, now.Add(time.Second))
	if err != nil || got.Kind != grant.KindPushedRequest || string(got.Data) != req || got.ClientID != "app" {
		t.Fatalf("consume: %+v, %v", got, err)
	}
	if _, err := s.ConsumeGrant(ctx, par.ID, now.Add(2*time.Second)); !errors.Is(err, grant.ErrConsumed) {
		t.Fatalf("second use of a request_uri: %v, want ErrConsumed", err)
	}
	late := par
	late.ID = grant.HashHandle("urn:ietf:params:oauth:request_uri:late")
	if err := s.CreateGrant(ctx, late); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeGrant(ctx, late.ID, late.Expires); !errors.Is(err, grant.ErrExpired) {
		t.Fatalf("expired request_uri: %v, want ErrExpired", err)
	}
}

// deleteExpiredOnceAndPushed: DeleteExpired (the cleaner's work) removes
// expired identifiers and pushed requests and keeps live ones.
func deleteExpiredOnceAndPushed(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	deadJTI, liveJTI := grant.OnceID(grant.OnceDPoPProof, "k", "dead"), grant.OnceID(grant.OnceDPoPProof, "k", "live")
	if err := grant.UseOnce(ctx, s, deadJTI, now.Add(-2*time.Minute), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, s, liveJTI, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	deadPAR := grant.Grant{ID: grant.HashHandle("par-dead"), Kind: grant.KindPushedRequest, ClientID: "app", Data: []byte(`{}`),
		Created: now.Add(-2 * time.Minute), Expires: now.Add(-time.Minute)}
	livePAR := deadPAR
	livePAR.ID, livePAR.Created, livePAR.Expires = grant.HashHandle("par-live"), now, now.Add(time.Minute)
	for _, g := range []grant.Grant{deadPAR, livePAR} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteExpired(ctx, now); err != nil || n != 2 {
		t.Fatalf("delete expired: %d, %v; want 2", n, err)
	}
	for id, want := range map[string]bool{deadJTI: false, liveJTI: true, deadPAR.ID: false, livePAR.ID: true} {
		if _, err := s.Grant(ctx, id); (err == nil) != want {
			t.Errorf("%s: present %v, want %v (%v)", id, err == nil, want, err)
		}
	}
}

// Legacy returns one grant of each kind a version 3 schema holds, every
// field set, around now (in whole microseconds): a fixture for upgrade
// tests, which store them with SQL of the older schema, migrate, and
// check with [Kept] that each is unchanged.
func Legacy(now time.Time) []grant.Grant {
	now = now.UTC().Truncate(time.Microsecond)
	var out []grant.Grant
	for i, k := range []grant.Kind{grant.KindAuthorizationCode, grant.KindRefreshToken, grant.KindSession, grant.KindRevocation} {
		g := grant.Grant{ID: grant.HashHandle("legacy-" + string(k)), Kind: k, ClientID: "app", Subject: "alice",
			FamilyID: "fam-" + string(k), SessionID: "sid-" + string(k), Data: []byte(`{"scope":"openid ` + string(k) + `"}`),
			Created: now.Add(-time.Duration(i+1) * time.Minute), Expires: now.Add(time.Duration(i+1) * time.Hour)}
		if i%2 == 0 {
			g.Consumed = now.Add(-time.Second)
		}
		if i >= 2 {
			g.Revoked = now.Add(-time.Millisecond)
		}
		out = append(out, g)
	}
	return out
}

// Kept checks that s holds each of want unchanged.
func Kept(t *testing.T, s grant.Store, want []grant.Grant) {
	t.Helper()
	for _, w := range want {
		g, err := s.Grant(t.Context(), w.ID)
		if err != nil {
			t.Errorf("%s grant lost: %v", w.Kind, err)
			continue
		}
		if g.ID != w.ID || g.Kind != w.Kind || g.ClientID != w.ClientID || g.Subject != w.Subject || g.FamilyID != w.FamilyID ||
			g.SessionID != w.SessionID || string(g.Data) != string(w.Data) || !g.Created.Equal(w.Created) || !g.Expires.Equal(w.Expires) ||
			!g.Consumed.Equal(w.Consumed) || !g.Revoked.Equal(w.Revoked) {
			t.Errorf("%s grant changed:\n got %+v\nwant %+v", w.Kind, g, w)
		}
	}
}

// ReplayedAcrossHandles checks stores, at least two handles on the same
// backing storage (standing for instances or processes): an identifier
// used through the first is refused through the second, and of
// concurrent uses through all of them exactly one succeeds.
func ReplayedAcrossHandles(t *testing.T, stores ...grant.Store) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	clock := func() time.Time { return now }
	id := grant.OnceID(grant.OnceClientAssertion, "app", "jti-at-first")
	if err := grant.NewReplayCache(stores[0], "", clock).UseOnce(t.Context(), id, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := grant.NewReplayCache(stores[1], "", clock).UseOnce(t.Context(), id, now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("the identifier replayed through a second handle: %v, want ErrReplayed", err)
	}
	UseOnceConcurrent(t, now, stores...)
}

// UpgradedTakesNewKinds checks a store migrated from version 3: it holds
// exactly legacy, unchanged (rows counts the grants table's rows), and
// takes one-time identifiers and pushed requests.
func UpgradedTakesNewKinds(t *testing.T, s grant.Store, legacy []grant.Grant, rows func() int) {
	t.Helper()
	Kept(t, s, legacy)
	if n := rows(); n != len(legacy) {
		t.Fatalf("%d grants after the upgrade, want %d", n, len(legacy))
	}
	ctx, now := t.Context(), time.Now()
	if err := grant.UseOnce(ctx, s, grant.OnceID(grant.OnceDPoPProof, "k", "after"), now, now.Add(time.Minute)); err != nil {
		t.Errorf("a jti after the upgrade: %v", err)
	}
	par := grant.Grant{ID: "par", Kind: grant.KindPushedRequest, Data: []byte(`{}`), Created: now, Expires: now.Add(time.Minute)}
	if err := s.CreateGrant(ctx, par); err != nil {
		t.Errorf("a pushed request after the upgrade: %v", err)
	}
}

// BenchmarkUseOnce measures grant.UseOnce of fresh identifiers on s from
// 8 goroutines per CPU (concurrent token requests): the store write a
// private_key_jwt assertion or a DPoP proof adds to a token request. ns/op
// is the inverse of the throughput, not one call's latency.
func BenchmarkUseOnce(b *testing.B, s grant.Store) {
	now := time.Now()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := grant.OnceID(grant.OnceDPoPProof, "bench", strconv.FormatInt(n.Add(1), 36))
			if err := grant.UseOnce(b.Context(), s, id, now, now.Add(time.Minute)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
