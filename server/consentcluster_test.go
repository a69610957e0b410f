package server

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestConsentAcrossInstances: three instances share one PostgreSQL
// schema. One consent form posted 20 times at once, spread over them,
// gives exactly one code; the remembered consent and the session's idle
// timeout hold at every instance.
func TestConsentAcrossInstances(t *testing.T) {
	e := newClusterEnv(t, 3, nil, func(c *Config) {
		withConsent(true)(c)
		c.Users = loginUsers(t)
		c.SessionIdleTimeout = 10 * time.Minute
	})
	b := e.browser()
	f := consentForm(t, b.signIn(spaRequest(), "alice", alicePassword))
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			p := b.decide(f, "approve", true)
			mu.Lock()
			got[p.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if got[http.StatusSeeOther] != 1 || got[http.StatusConflict] != 19 {
		t.Fatalf("one form posted 20 times over 3 instances: %v; want exactly one code", got)
	}
	for i := range 3 { // remembered, at each instance (round robin)
		if cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect); cb.Get("code") == "" {
			t.Fatalf("request %d: remembered consent not honoured: %v", i, cb)
		}
	}
	e.clock.Add(10*time.Minute + time.Second)
	for i := range 3 {
		if cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect); cb.Get("error") != "login_required" {
			t.Fatalf("request %d: an idle session still works: %v", i, cb)
		}
	}
}
