package grant_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore/memstore"
)

// replayCache is what the verifiers of client assertions and DPoP proofs
// take.
type replayCache interface {
	UseOnce(ctx context.Context, id string, exp time.Time) error
}

var _ replayCache = (*grant.ReplayCache)(nil)

// TestReplayCacheUsesItsClock: the cache asks its clock for now, so an
// identifier is usable again once the clock passed its exp.
func TestReplayCacheUsesItsClock(t *testing.T) {
	st := memstore.New()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var c replayCache = grant.NewReplayCache(st, "", func() time.Time { return now })
	id := grant.OnceID(grant.OnceDPoPProof, "jkt", "j1")
	exp := now.Add(time.Minute)
	if err := c.UseOnce(t.Context(), id, exp); err != nil {
		t.Fatal(err)
	}
	if err := c.UseOnce(t.Context(), id, exp); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("replay: %v, want ErrReplayed", err)
	}
	now = exp
	if err := c.UseOnce(t.Context(), id, exp); !errors.Is(err, grant.ErrExpired) {
		t.Fatalf("at exp: %v, want ErrExpired", err)
	}
	if err := c.UseOnce(t.Context(), id, exp.Add(time.Minute)); err != nil {
		t.Fatalf("after exp, with a new exp: %v", err)
	}
}

// TestReplayCacheNamespaces: one id in two namespaces is two identifiers,
// each refused on its second use.
func TestReplayCacheNamespaces(t *testing.T) {
	st := memstore.New()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	assertions := grant.NewReplayCache(st, grant.OnceClientAssertion, clock)
	proofs := grant.NewReplayCache(st, grant.OnceDPoPProof, clock)
	for _, c := range []*grant.ReplayCache{assertions, proofs} {
		if err := c.UseOnce(t.Context(), "same-id", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*grant.ReplayCache{assertions, proofs} {
		if err := c.UseOnce(t.Context(), "same-id", now.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
			t.Fatalf("replay: %v, want ErrReplayed", err)
		}
	}
	if _, err := st.Grant(t.Context(), "same-id"); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("a namespaced id was stored as given: %v", err)
	}
}

// TestOnceIDSeparatesParts: namespace, scope and jti cannot run into each
// other.
func TestOnceIDSeparatesParts(t *testing.T) {
	ids := map[string]bool{}
	for _, p := range [][3]string{{"a", "b", "c"}, {"a", "bc", ""}, {"ab", "", "c"}, {"a", "", "bc"}, {grant.OnceDPoPProof, "app", "j"}, {grant.OnceClientAssertion, "app", "j"}} {
		id := grant.OnceID(p[0], p[1], p[2])
		if ids[id] {
			t.Fatalf("OnceID%v collides", p)
		}
		ids[id] = true
	}
}

// TestCleanerRemovesOnceAndPushed: the cleaner deletes used identifiers
// and pushed requests once they expired longer ago than its grace, so
// their rows stay bounded.
func TestCleanerRemovesOnceAndPushed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		st := memstore.New()
		now := time.Now()
		jti := grant.OnceID(grant.OnceClientAssertion, "app", "j")
		if err := grant.UseOnce(ctx, st, jti, now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		par := grant.Grant{ID: grant.HashHandle("urn:ietf:params:oauth:request_uri:x"), Kind: grant.KindPushedRequest, ClientID: "app",
			Data: []byte(`{}`), Created: now, Expires: now.Add(time.Minute)}
		if err := st.CreateGrant(ctx, par); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- (&grant.Cleaner{Store: st}).Run(ctx) }()
		defer func() { cancel(); <-done }()
		time.Sleep(time.Minute + grant.DefaultCleanGrace - time.Second)
		synctest.Wait()
		for _, id := range []string{jti, par.ID} {
			if _, err := st.Grant(ctx, id); err != nil {
				t.Fatalf("%s removed within the grace: %v", id, err)
			}
		}
		time.Sleep(grant.DefaultCleanInterval + time.Second)
		synctest.Wait()
		for _, id := range []string{jti, par.ID} {
			if _, err := st.Grant(ctx, id); !errors.Is(err, grant.ErrNotFound) {
				t.Fatalf("%s still stored after its grace and an interval: %v", id, err)
			}
		}
	})
}

// plainStore is a grant.Store without ClaimOnce, as a store from outside
// this module may be.
type plainStore struct{ grant.Store }

// TestUseOnceWithoutClaimer: on a store that is no OnceClaimer, UseOnce
// still refuses replays (also concurrent ones) through CreateGrant, and
// an identifier whose use expired is usable again once its row is
// deleted.
func TestUseOnceWithoutClaimer(t *testing.T) {
	st := plainStore{memstore.New()}
	if _, ok := any(st).(grant.OnceClaimer); ok {
		t.Fatal("the fixture claims")
	}
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	granttest.UseOnceConcurrent(t, now, st)
	id := grant.OnceID(grant.OnceClientAssertion, "app", "j")
	exp := now.Add(time.Minute)
	if err := grant.UseOnce(ctx, st, id, now, exp); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, st, id, exp, exp.Add(time.Minute)); !errors.Is(err, grant.ErrReplayed) {
		t.Fatalf("at exp, the row still stored: %v, want ErrReplayed", err)
	}
	if _, err := st.DeleteExpired(ctx, exp.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := grant.UseOnce(ctx, st, id, exp.Add(time.Second), exp.Add(time.Minute)); err != nil {
		t.Fatalf("after the row was deleted: %v", err)
	}
	if err := grant.ClaimOnce(ctx, st, granttest.Grant("code", now)); !errors.Is(err, grant.ErrInvalid) {
		t.Fatalf("ClaimOnce of a code: %v, want ErrInvalid", err)
	}
}

// TestClaimHoldsTheIdentifierOnly: a claim carrying more than an id and
// its times is refused, since the stores keep one-time identifiers in a
// table of id, created and expires (schema version 11) and would drop the
// rest.
func TestClaimHoldsTheIdentifierOnly(t *testing.T) {
	now := time.Now()
	base := grant.Grant{ID: "id", Kind: grant.KindJTI, Created: now, Expires: now.Add(time.Minute)}
	if err := grant.ValidateClaim(base); err != nil {
		t.Fatalf("a plain identifier: %v", err)
	}
	for name, change := range map[string]func(*grant.Grant){
		"client":   func(g *grant.Grant) { g.ClientID = "app" },
		"subject":  func(g *grant.Grant) { g.Subject = "alice" },
		"family":   func(g *grant.Grant) { g.FamilyID = "f" },
		"session":  func(g *grant.Grant) { g.SessionID = "s" },
		"data":     func(g *grant.Grant) { g.Data = []byte("{}") },
		"consumed": func(g *grant.Grant) { g.Consumed = now },
		"revoked":  func(g *grant.Grant) { g.Revoked = now },
	} {
		g := base
		change(&g)
		if err := grant.ValidateClaim(g); !errors.Is(err, grant.ErrInvalid) || !strings.Contains(err.Error(), "leave its other fields empty") {
			t.Errorf("%s: %v, want ErrInvalid naming the fix", name, err)
		}
	}
}
