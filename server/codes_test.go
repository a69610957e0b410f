package server

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
)

// writeCounter is a grant store that counts the writes made through it.
type writeCounter struct {
	grantstore.Store
	writes atomic.Int32
}

func (c *writeCounter) CreateGrant(ctx context.Context, g grantstore.Grant) error {
	c.writes.Add(1)
	return c.Store.CreateGrant(ctx, g)
}

func (c *writeCounter) ConsumeGrant(ctx context.Context, id string, now time.Time) (grantstore.Grant, error) {
	c.writes.Add(1)
	return c.Store.ConsumeGrant(ctx, id, now)
}

func (c *writeCounter) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	c.writes.Add(1)
	return c.Store.RevokeGrant(ctx, id, now)
}

func (c *writeCounter) RevokeFamily(ctx context.Context, family string, now time.Time) (int, error) {
	c.writes.Add(1)
	return c.Store.RevokeFamily(ctx, family, now)
}

func (c *writeCounter) RevokeSession(ctx context.Context, sid string, now time.Time) (int, error) {
	c.writes.Add(1)
	return c.Store.RevokeSession(ctx, sid, now)
}

func (c *writeCounter) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	c.writes.Add(1)
	return c.Store.DeleteExpired(ctx, t)
}

// TestHeadWritesNothing: HEAD on the authorization and end-session
// endpoints of a signed-in browser is refused and writes nothing (a GET
// would store a code, or end the session).
func TestHeadWritesNothing(t *testing.T) {
	var wc *writeCounter
	e := newLoginEnv(t, func(c *Config) {
		wc = &writeCounter{Store: c.Grants}
		c.Grants = wc
	})
	b := e.signedInBrowser()
	hint := e.tokens(e.exchange(e.callback(b.authorize(spaRequest()), spaRedirect).Get("code"), verifierForSPA)).IDToken
	before := wc.writes.Load()
	for _, u := range []string{
		e.issuer + PathAuthorize + "?" + spaRequest().Encode(),
		e.issuer + PathEndSession + "?" + url.Values{"id_token_hint": {hint}}.Encode(),
	} {
		req, _ := http.NewRequest(http.MethodHead, u, nil)
		if p := e.do(b.c, req); p.StatusCode != http.StatusMethodNotAllowed || p.Header.Get("Allow") != "GET, POST" {
			t.Errorf("HEAD %s: %d %v, want 405 with Allow: GET, POST", u, p.StatusCode, p.Header)
		}
	}
	if n := wc.writes.Load() - before; n != 0 {
		t.Fatalf("HEAD requests made %d grant store writes", n)
	}
	// The session is intact: a GET still issues a code.
	if e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect).Get("code") == "" {
		t.Fatal("the session ended")
	}
}
