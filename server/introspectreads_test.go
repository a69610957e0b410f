package server

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
)

// revocationReads is a memory store that counts its reads.
type revocationReads struct {
	*memstore.Store
	grants, revocations atomic.Int64
}

func (r *revocationReads) Grant(ctx context.Context, id string) (grantstore.Grant, error) {
	r.grants.Add(1)
	return r.Store.Grant(ctx, id)
}

func (r *revocationReads) HasRevocation(ctx context.Context, id string) (bool, error) {
	r.revocations.Add(1)
	return r.Store.HasRevocation(ctx, id)
}

// TestIntrospectionReadsRevocationOnce: an introspection checks the
// token's revocation with one HasRevocation read of the store (one
// statement on the grants table in the SQL stores, where Grant also
// looked among the one-time identifiers whenever the token was not
// revoked), on every introspection: a revocation made meanwhile holds at
// the next one.
func TestIntrospectionReadsRevocationOnce(t *testing.T) {
	var st *revocationReads
	e := newLoginEnv(t, func(c *Config) {
		st = &revocationReads{Store: c.Grants.(*memstore.Store)}
		c.Grants = st
	})
	b := e.signedInBrowser()
	code := e.callback(b.authorize(spaRequest("scope", "openid reports.read")), spaRedirect).Get("code")
	tr := e.tokens(e.exchange(code, verifierForSPA))
	reads := func() (int64, int64) { return st.grants.Swap(0), st.revocations.Swap(0) }
	reads()
	for range 3 {
		if m := e.introspect(tr.AccessToken); m["active"] != true {
			t.Fatalf("active token: %v", m)
		}
	}
	if g, r := reads(); g != 0 || r != 3 {
		t.Fatalf("3 introspections: %d Grant reads, %d HasRevocation reads; want 0 and 3", g, r)
	}
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr.AccessToken}}); p.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", p.StatusCode, p.body)
	}
	reads()
	if m := e.introspect(tr.AccessToken); m["active"] != false {
		t.Fatalf("revoked: %v", m)
	}
	if g, r := reads(); g != 0 || r != 1 {
		t.Fatalf("introspection of a revoked token: %d Grant reads, %d HasRevocation reads; want 0 and 1", g, r)
	}
}
