package server

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// reuseEnv signs alice in through the public client, whose reuse
// interval is interval, and returns the first refresh token.
func reuseEnv(t *testing.T, interval time.Duration) (*loginEnv, string) {
	e := newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "spa" {
				c.Clients[i].RefreshTokenReuseInterval = interval
			}
		}
	})
	tr := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
	return e, tr.RefreshToken
}

// concurrentRefresh presents rt n times at once.
func (e *loginEnv) concurrentRefresh(rt string, n int) []page {
	out := make([]page, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range out {
		wg.Go(func() {
			<-start
			out[i] = e.refresh(rt)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// oauth2-proxy's scenario: 6 parallel requests at refresh time present
// the same refresh token. Every one gets the same successor and the
// session goes on; the family has one row per rotation.
func TestRefreshConcurrentWithinReuseInterval(t *testing.T) {
	e, r1 := reuseEnv(t, 30*time.Second)
	var r2 string
	for i, p := range e.concurrentRefresh(r1, 6) {
		tr := e.tokens(p)
		if r2 == "" {
			r2 = tr.RefreshToken
		}
		if tr.RefreshToken != r2 || tr.AccessToken == "" || tr.IDToken == "" {
			t.Fatalf("answer %d: refresh token %q, want the one successor %q", i, tr.RefreshToken, r2)
		}
	}
	// A request of the same burst a little later gets it too.
	e.clock.Add(20 * time.Second)
	if tr := e.tokens(e.refresh(r1)); tr.RefreshToken != r2 {
		t.Fatalf("within the interval: %q, want %q", tr.RefreshToken, r2)
	}
	r3 := e.tokens(e.refresh(r2)).RefreshToken
	if r3 == "" || r3 == r2 {
		t.Fatalf("next rotation: %q", r3)
	}
	// session, code, r2, r3: one row per rotation, and r3's rotation
	// deleted r1 (the family keeps its current token and the one before).
	if n, err := e.store.DeleteExpired(t.Context(), testNow.Add(1000*time.Hour)); err != nil || n != 4 {
		t.Errorf("%d grants stored, want 4 (session, code, two refresh tokens): %v", n, err)
	}
}

// Outside the interval a reuse revokes the family, as does presenting a
// token whose successor has been used, even within the interval.
func TestRefreshReuseOutsideInterval(t *testing.T) {
	e, r1 := reuseEnv(t, 10*time.Second)
	r2 := e.tokens(e.refresh(r1)).RefreshToken
	e.clock.Add(11 * time.Second)
	e.oauthErr(e.refresh(r1), http.StatusBadRequest, "invalid_grant")
	e.oauthErr(e.refresh(r2), http.StatusBadRequest, "invalid_grant") // the family is revoked

	e, r1 = reuseEnv(t, 10*time.Second)
	r2 = e.tokens(e.refresh(r1)).RefreshToken
	r3 := e.tokens(e.refresh(r2)).RefreshToken
	e.oauthErr(e.refresh(r1), http.StatusBadRequest, "invalid_grant") // two generations old
	e.oauthErr(e.refresh(r3), http.StatusBadRequest, "invalid_grant")
}

// With the interval off every reuse revokes the family, as before.
func TestRefreshReuseIntervalOff(t *testing.T) {
	e, r1 := reuseEnv(t, 0)
	ok := 0
	for _, p := range e.concurrentRefresh(r1, 6) {
		if p.StatusCode == 200 {
			ok++
		}
	}
	if ok > 1 {
		t.Fatalf("%d of 6 concurrent uses succeeded with the interval off", ok)
	}
	e.clock.Add(time.Second)
	e.oauthErr(e.refresh(r1), http.StatusBadRequest, "invalid_grant")
}
