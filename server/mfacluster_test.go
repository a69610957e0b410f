package server

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/signet-id/signet/mfa"
)

// TestMFAAcrossInstances: three instances on one PostgreSQL schema,
// requests spread round robin. The enrolment's steps land on different
// instances (the sealed state opens on each); then six browsers that
// passed the password submit the same code at once, to different
// instances: exactly one signs in, the others are told the code is wrong.
func TestMFAAcrossInstances(t *testing.T) {
	e := newClusterEnv(t, 3, nil, func(c *Config) {
		c.Users = loginUsers(t)
		withMFA(t)(c)
		requireMFA(c)
	})
	key, _, _ := e.enrolAlice(e.browser(), spaRequest())
	e.clock.Add(mfa.Period)
	code := e.totpCode(key)
	const n = 6
	forms := make([]url.Values, n)
	browsers := make([]*browser, n)
	for i := range n {
		browsers[i] = e.browser()
		p := browsers[i].signIn(spaRequest(), "alice", alicePassword)
		forms[i] = mfaForm(t, p.body, "code", code)
	}
	got := map[int]int{}
	done := make(chan int, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			done <- browsers[i].postMFA(forms[i]).StatusCode
		}()
	}
	close(start)
	for range n {
		got[<-done]++
	}
	if got[http.StatusSeeOther] != 1 || got[http.StatusOK] != n-1 {
		t.Fatalf("%d browsers with one code across 3 instances: %v; want one sign-in (303) and %d refusals (200)", n, got, n-1)
	}
}
