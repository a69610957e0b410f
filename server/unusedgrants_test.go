package server

import (
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
)

// A code exchange and a refresh at the instance that stored the code or
// the refresh token make one statement each with PostgreSQL, the
// rotation: they were two, the grant read back first and then rotated.
func TestUseMakesOneStatement(t *testing.T) {
	st, sc := countedPostgres(t)
	e := newLoginEnv(t, func(c *Config) { c.Grants = st })
	code := e.code(e.browser(), spaRequest())
	before, _ := sc.snapshot()
	tr := e.tokens(e.exchange(code, verifierForSPA))
	if n, _ := sc.snapshot(); n-before != 1 {
		t.Errorf("the code exchange made %d statements, want 1 (the rotation)", n-before)
	}
	for i := range 3 {
		before, _ = sc.snapshot()
		tr = e.tokens(e.refresh(tr.RefreshToken))
		if n, _ := sc.snapshot(); n-before != 1 {
			t.Errorf("refresh %d made %d statements, want 1 (the rotation)", i, n-before)
		}
	}
}

// Two instances share one PostgreSQL schema; each remembers the grants it
// stored. A grant used, revoked or replayed at the other instance gets
// the answers it got when every use read it from the store: reuse and
// code replay revoke the family, a revoked token is refused.
func TestUnusedGrantsAcrossInstances(t *testing.T) {
	var at atomic.Int64 // the instance of the next request
	e := newClusterEnv(t, 2, func(*http.Request) int { return int(at.Load()) }, func(c *Config) { c.Users = loginUsers(t) })
	on := func(i int) { at.Store(int64(i)) }
	signIn := func() (code string) {
		on(0)
		return e.code(e.browser(), spaRequest())
	}

	{ // refresh token reused at the instance that stored it
		code := signIn()
		first := e.tokens(e.exchange(code, verifierForSPA)) // A remembers first's refresh token
		on(1)
		second := e.tokens(e.refresh(first.RefreshToken)) // used at B
		e.clock.Add(time.Minute)                          // past any reuse interval
		on(0)
		e.oauthErr(e.refresh(first.RefreshToken), http.StatusBadRequest, "invalid_grant") // reuse at A
		on(1)
		e.oauthErr(e.refresh(second.RefreshToken), http.StatusBadRequest, "invalid_grant") // the family is revoked
	}

	{ // code replayed at the instance that stored it
		code := signIn() // A remembers the code
		on(1)
		tr := e.tokens(e.exchange(code, verifierForSPA)) // used at B
		on(0)
		e.oauthErr(e.exchange(code, verifierForSPA), http.StatusBadRequest, "invalid_grant") // replay at A
		on(1)
		e.oauthErr(e.refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant") // what the first use issued is revoked
	}

	{ // refresh token revoked at the other instance
		tr := e.tokens(e.exchange(signIn(), verifierForSPA)) // A remembers the refresh token
		on(1)
		if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr.RefreshToken}}); p.StatusCode != http.StatusOK {
			t.Fatalf("revocation at B: %d %s", p.StatusCode, p.body)
		}
		on(0)
		e.oauthErr(e.refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	}
}

// unusedGrants keeps at most its capacity, serves a grant once, and says
// whether a use took the grant from it.
func TestUnusedGrantsBounded(t *testing.T) {
	c := newUnusedGrants(4)
	for i := range 10 {
		c.put(grantstore.Grant{ID: fmt.Sprint("g", i)})
	}
	if len(c.byID) != 4 {
		t.Fatalf("%d grants kept, want 4", len(c.byID))
	}
	if _, ok := c.take("g5"); ok {
		t.Fatal("an evicted grant was served")
	}
	if g, ok := c.take("g9"); !ok || g.ID != "g9" {
		t.Fatalf("the newest grant: %+v, %v", g, ok)
	}
	if _, ok := c.take("g9"); ok {
		t.Fatal("a grant was served twice")
	}
	if !c.settle("g9") || c.settle("g9") || c.settle("g8") {
		t.Fatal("settle: want true once for the grant taken, false otherwise")
	}
}
