package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/pgstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// The writes of writeCounter (codes_test.go) that make a flow's single
// transaction.

func (c *writeCounter) Rotate(ctx context.Context, id string, now time.Time, next grantstore.Grant) (grantstore.Grant, error) {
	c.writes.Add(1)
	return c.Store.Rotate(ctx, id, now, next)
}

func (c *writeCounter) StartSession(ctx context.Context, end, sess, code grantstore.Grant) error {
	c.writes.Add(1)
	return c.Store.StartSession(ctx, end, sess, code)
}

// A sign-in (the whole code flow) is at most two write transactions, one
// per request that changes state (the login and the code exchange), also
// when the browser had a session before; a refresh is one. Every write
// call of a grant store is one transaction in each backend.
func TestWriteTransactionsPerFlow(t *testing.T) {
	var wc *writeCounter
	e := newLoginEnv(t, func(c *Config) { wc = &writeCounter{Store: c.Grants}; c.Grants = wc })
	b := e.browser()
	for i := range 2 { // the second sign-in ends the browser's first session
		e.clock.Add(time.Second)
		before := wc.writes.Load()
		code := e.code(b, spaRequest("prompt", "login"))
		if n := wc.writes.Load() - before; n != 1 {
			t.Fatalf("sign-in %d: the login made %d write transactions, want 1", i, n)
		}
		before = wc.writes.Load()
		tr := e.tokens(e.exchange(code, verifierForSPA))
		if n := wc.writes.Load() - before; n != 1 || tr.RefreshToken == "" {
			t.Fatalf("sign-in %d: the code exchange made %d write transactions, want 1", i, n)
		}
		for j := range 3 {
			before = wc.writes.Load()
			tr = e.tokens(e.refresh(tr.RefreshToken))
			if n := wc.writes.Load() - before; n != 1 {
				t.Fatalf("refresh %d: %d write transactions, want 1", j, n)
			}
		}
	}
}

// TestRefreshFamilyBounded: a family refreshed many times keeps a
// constant number of rows (its code, the token just rotated and the
// current one) in every store, and an old, deleted token of it still
// revokes the family when it comes back.
func TestRefreshFamilyBounded(t *testing.T) {
	run := func(t *testing.T, st grantstore.Store) {
		e := newLoginEnv(t, func(c *Config) { c.Grants = st })
		tr := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
		first := tr.RefreshToken
		family := handleFamily(first)
		if family == "" {
			t.Fatalf("refresh token %q does not name its family", first)
		}
		for i := range 60 {
			e.clock.Add(time.Minute) // past the reuse interval each time
			tr = e.tokens(e.refresh(tr.RefreshToken))
			gs, err := st.FamilyGrants(t.Context(), family)
			if err != nil {
				t.Fatal(err)
			}
			if len(gs) != 3 {
				t.Fatalf("after %d refreshes the family has %d rows, want 3 (code, previous, current)", i+1, len(gs))
			}
		}
		e.oauthErr(e.refresh(first), 400, "invalid_grant")
		e.oauthErr(e.refresh(tr.RefreshToken), 400, "invalid_grant") // revoked with its family
		if ui := e.userinfo(tr.AccessToken); ui.StatusCode != 401 {
			t.Fatalf("the family's last access token still works: %d", ui.StatusCode)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, memstore.New()) })
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		run(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := pgstore.Open(t.Context(), postgresSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		run(t, st)
	})
}
