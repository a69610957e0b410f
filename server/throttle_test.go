package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/throttle"
)

// slowSecret is an argon2id hash slow enough (a few milliseconds) that
// concurrent requests overlap while one is verified.
func slowSecret(t testing.TB, pw string) *clientauth.Secret { return argonSecret(t, pw, 2048, 8) }

// withSlowAlice gives alice a slow password hash.
func withSlowAlice(t testing.TB) func(*Config) {
	return func(c *Config) {
		for i := range c.Users {
			if c.Users[i].Username == "alice" {
				c.Users[i].Password = slowSecret(t, alicePassword)
			}
		}
	}
}

// fromAddr is a browser whose requests a trusted proxy forwards for client.
func (e *loginEnv) fromAddr(client string) *browser {
	b := e.browser()
	b.c.Transport = forwardedFor{client}
	return b
}

func trustLoopback(c *Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// concurrentLogins submits n sign-ins at once and counts the answers by
// status.
func concurrentLogins(b *browser, loginPage string, n int, username func(i int) string, password string) map[int]int {
	f := formFields(b.e.t, loginPage)
	return concurrentPosts(b, PathLogin, n, func(i int) url.Values {
		g := url.Values{}
		for k, v := range f {
			g[k] = v
		}
		g.Set("username", username(i))
		g.Set("password", password)
		return g
	})
}

// concurrentPosts posts n forms to path at once and counts the answers
// by status.
func concurrentPosts(b *browser, path string, n int, form func(i int) url.Values) map[int]int {
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", b.e.issuer+path, strings.NewReader(form(i).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			resp, err := b.c.Do(req)
			if err != nil {
				b.e.t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

// TestLoginCountsAttemptsInFlight: 40 concurrent wrong guesses for one
// username from one address get exactly the budget verified (200 with the
// wrong-password message); the others are refused (429), and so is the
// right password afterwards, until the window ends.
func TestLoginCountsAttemptsInFlight(t *testing.T) {
	e := newLoginEnv(t, withSlowAlice(t))
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	got := concurrentLogins(b, lp.body, 40, func(int) string { return "alice" }, "wrong")
	if got[200] != userFailures || got[429] != 40-userFailures {
		t.Fatalf("40 concurrent wrong guesses: %v; want %d verified, the rest refused", got, userFailures)
	}
	if p := b.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after the burst: %d", p.StatusCode)
	}
	e.clock.Add(failureWindow)
	if p := b.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the window: %d", p.StatusCode)
	}
}

// TestLoginAddressCountsAttemptsInFlight: the same per address, with a
// different username in each guess (unknown users cost the dummy hash).
func TestLoginAddressCountsAttemptsInFlight(t *testing.T) {
	e := newLoginEnv(t, withSlowAlice(t))
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	got := concurrentLogins(b, lp.body, 60, func(i int) string { return "user" + strconv.Itoa(i) }, "wrong")
	if got[200] != addrFailures || got[429] != 60-addrFailures {
		t.Fatalf("60 concurrent guesses from one address: %v; want %d verified", got, addrFailures)
	}
	if p := b.submitLogin(lp.body, "bob", bobPassword); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("bob from the spent address: %d", p.StatusCode)
	}
}

// TestNoTargetedLockout: unlimited wrong guesses for alice from one
// address do not stop alice from another; guesses from many addresses
// together are bounded by the per-username ceiling.
func TestNoTargetedLockout(t *testing.T) {
	e := newLoginEnv(t, trustLoopback, func(c *Config) { c.Limits.LoginPerUser = throttle.Limit{Max: 20, Window: 15 * time.Minute} })
	attacker := e.fromAddr("203.0.113.66")
	lp := attacker.get(attacker.authorize(spaRequest()).Header.Get("Location"))
	for i := range 50 {
		attacker.submitLogin(lp.body, "alice", "guess"+strconv.Itoa(i))
	}
	alice := e.fromAddr("198.51.100.7")
	lpa := alice.get(alice.authorize(spaRequest()).Header.Get("Location"))
	if p := alice.submitLogin(lpa.body, "alice", alicePassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice from her own address after 50 guesses from another: %d", p.StatusCode)
	}

	// A distributed attacker: 10 addresses × 5 guesses; only the
	// ceiling's 20 (minus the 5 above) are verified.
	evaluated := 0
	for a := range 10 {
		bot := e.fromAddr(fmt.Sprintf("192.0.2.%d", a+1))
		lpb := bot.get(bot.authorize(spaRequest()).Header.Get("Location"))
		for i := range 5 {
			if p := bot.submitLogin(lpb.body, "alice", fmt.Sprintf("g%d-%d", a, i)); p.StatusCode == 200 {
				evaluated++
			}
		}
	}
	if evaluated != 20-userFailures {
		t.Fatalf("%d guesses verified from 10 addresses; the per-username ceiling allows %d more", evaluated, 20-userFailures)
	}
}

// TestLockoutSurvivesSpray: a spray of distinct usernames from many
// addresses fills the attempt table without releasing a live lockout;
// new keys are refused instead, and the table stays bounded.
func TestLockoutSurvivesSpray(t *testing.T) {
	const tracked = 300
	mem := throttle.NewMemory(tracked)
	e := newLoginEnv(t, trustLoopback, func(c *Config) { c.Attempts = mem })
	attacker := e.fromAddr("203.0.113.66")
	lp := attacker.get(attacker.authorize(spaRequest()).Header.Get("Location"))
	for i := range userFailures {
		attacker.submitLogin(lp.body, "alice", "guess"+strconv.Itoa(i))
	}
	for a := range 100 {
		bot := e.fromAddr(fmt.Sprintf("10.9.%d.%d", a/200, a%200+1))
		lpb := bot.get(bot.authorize(spaRequest()).Header.Get("Location"))
		for i := range 10 {
			bot.submitLogin(lpb.body, fmt.Sprintf("junk-%d-%d", a, i), "x")
		}
		if mem.Len() > tracked {
			t.Fatalf("%d keys tracked, bound %d", mem.Len(), tracked)
		}
	}
	if p := attacker.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the spray released alice's lockout: %d", p.StatusCode)
	}
	if mem.Len() != tracked {
		t.Fatalf("%d keys tracked; the spray should have filled the table (%d)", mem.Len(), tracked)
	}
}

// TestLoginHashingBusy: when the hashing budget is taken and its queue is
// full, the login form answers at once with a "try again shortly" page;
// a sign-in whose browser has gone gives up its place before hashing.
func TestLoginHashingBusy(t *testing.T) {
	h := throttle.NewHashing(1024, 1)
	e := newLoginEnv(t, func(c *Config) { c.Hashing = h })
	hold, err := h.Acquire(context.Background(), 1024)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	f := formFields(t, lp.body)
	f.Set("username", "alice")
	f.Set("password", alicePassword)
	ctx, cancel := context.WithCancel(context.Background())
	queued := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", e.issuer+PathLogin, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err := b.c.Do(req)
		queued <- err
	}()
	for h.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	p := b.submitLogin(lp.body, "alice", alicePassword)
	if p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") != "1" || !strings.Contains(p.body, "try again in a moment") {
		t.Fatalf("queue full: %d %v %s", p.StatusCode, p.Header, p.body)
	}
	cancel()
	<-queued
	for h.Waiting() != 0 { // the gone request leaves the queue while the budget is still held
		time.Sleep(time.Millisecond)
	}
	hold()
	// Neither refused attempt was counted: the full budget remains.
	for i := range userFailures - 1 {
		if p := b.submitLogin(lp.body, "alice", "wrong"+strconv.Itoa(i)); p.StatusCode != 200 {
			t.Fatalf("failure %d: %d", i, p.StatusCode)
		}
	}
	if p := b.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice after the busy spell: %d", p.StatusCode)
	}
}

// clientCall sends one client-authenticated request to path.
func (e *loginEnv) clientCall(path, id, secret string, form url.Values) page {
	req, _ := http.NewRequest("POST", e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return e.do(nil, req)
}

// throttledAnswer checks the documented answer of a spent client budget:
// 429, Retry-After in seconds, an invalid_client body.
func throttledAnswer(t *testing.T, p page, what string) {
	t.Helper()
	var er errorResponse
	json.Unmarshal([]byte(p.body), &er)
	ra, _ := strconv.Atoi(p.Header.Get("Retry-After"))
	if p.StatusCode != http.StatusTooManyRequests || ra < 1 || ra > 900 || er.Error != "invalid_client" ||
		!strings.Contains(er.Description, "too many failed client authentications") {
		t.Fatalf("%s: %d Retry-After %q %s", what, p.StatusCode, p.Header.Get("Retry-After"), p.body)
	}
}

// TestClientAuthThrottled: failed client authentication is throttled per
// client id and per address on token, introspection and revocation.
func TestClientAuthThrottled(t *testing.T) {
	perPair := DefaultLimits().ClientPerClientAndAddress.Max
	for _, ep := range []struct {
		name, path, id, secret string
		form                   url.Values
		ok                     int
	}{
		{"token", PathToken, "billing", "billing-secret", url.Values{"grant_type": {"client_credentials"}}, 200},
		{"introspection", PathIntrospect, "reports", reportsSecret, url.Values{"token": {"x"}}, 200},
		{"revocation", PathRevocation, "web", webSecret, url.Values{"token": {"x"}}, 200},
	} {
		t.Run(ep.name, func(t *testing.T) {
			e := newLoginEnv(t)
			for i := range perPair {
				if p := e.clientCall(ep.path, ep.id, "wrong", ep.form); p.StatusCode != 401 {
					t.Fatalf("failure %d: %d %s", i, p.StatusCode, p.body)
				}
			}
			throttledAnswer(t, e.clientCall(ep.path, ep.id, "wrong", ep.form), "wrong secret over budget")
			// The right secret is never held back by guesses (no lockout of
			// the real client): it needs no hashing.
			if p := e.clientCall(ep.path, ep.id, ep.secret, ep.form); p.StatusCode != ep.ok {
				t.Fatalf("right secret: %d %s", p.StatusCode, p.body)
			}
			// Per address: unknown ids from the same address.
			for i := range DefaultLimits().ClientPerAddress.Max - perPair {
				if p := e.clientCall(ep.path, "nobody"+strconv.Itoa(i), "x", ep.form); p.StatusCode != 401 {
					t.Fatalf("unknown client %d: %d", i, p.StatusCode)
				}
			}
			throttledAnswer(t, e.clientCall(ep.path, "someone-else", "x", ep.form), "address over budget")
			e.clock.Add(15 * time.Minute)
			if p := e.clientCall(ep.path, "someone-else", "x", ep.form); p.StatusCode != 401 {
				t.Fatalf("after the window: %d", p.StatusCode)
			}
		})
	}
}

// TestClientAuthCountsAttemptsInFlight: 40 concurrent wrong secrets for a
// client with an argon2id secret get exactly the budget verified.
func TestClientAuthCountsAttemptsInFlight(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "slow", Secrets: []*clientauth.Secret{slowSecret(t, "slow-secret")},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
	})
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			p := e.clientCall(PathToken, "slow", "wrong", url.Values{"grant_type": {"client_credentials"}})
			mu.Lock()
			got[p.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if want := DefaultLimits().ClientPerClientAndAddress.Max; got[401] != want || got[429] != 40-want {
		t.Fatalf("40 concurrent wrong secrets: %v, want %d verified", got, want)
	}
}

// TestTokenHashingBusy: with the hashing budget taken and its queue full,
// the token endpoint answers 503 with Retry-After and an OAuth error.
func TestTokenHashingBusy(t *testing.T) {
	h := throttle.NewHashing(2048, 1)
	e := newLoginEnv(t, func(c *Config) {
		c.Hashing = h
		c.Clients = append(c.Clients, Client{ID: "slow", Secrets: []*clientauth.Secret{slowSecret(t, "slow-secret")},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
	})
	hold, _ := h.Acquire(context.Background(), 2048)
	done := make(chan page)
	form := url.Values{"grant_type": {"client_credentials"}}
	go func() { done <- e.clientCall(PathToken, "slow", "slow-secret", form) }()
	for h.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	p := e.clientCall(PathToken, "nobody", "x", form)
	e.oauthErr(p, http.StatusServiceUnavailable, "temporarily_unavailable")
	if p.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	hold()
	if p := <-done; p.StatusCode != 200 {
		t.Fatalf("the queued request: %d %s", p.StatusCode, p.body)
	}
}

// gateBudget is a hashing budget that holds every verification until open
// is closed, counting them.
type gateBudget struct {
	open     chan struct{}
	acquired atomic.Int32
}

func (g *gateBudget) Acquire(ctx context.Context, kib uint64) (func(), error) {
	g.acquired.Add(1)
	select {
	case <-g.open:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestParallelRightSecretNotThrottled: a client that opens with more
// parallel requests than its failure budget, before its argon2id secret is
// remembered, gets every token: the requests share one verification (and
// so one attempt) instead of each reserving one.
func TestParallelRightSecretNotThrottled(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "pool", Secrets: []*clientauth.Secret{cheapPassword(t, "pool-secret")},
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour})
	})
	gate := &gateBudget{open: make(chan struct{})}
	e.s.hashing = gate
	var arrived atomic.Int32
	inner := e.ts.Config.Handler
	e.ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		inner.ServeHTTP(w, r)
	})
	n := 3 * DefaultLimits().ClientPerClientAndAddress.Max
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			p := e.clientCall(PathToken, "pool", "pool-secret", url.Values{"grant_type": {"client_credentials"}})
			mu.Lock()
			got[p.StatusCode]++
			mu.Unlock()
		})
	}
	// Hold the verification until every request is in (and has had the
	// chance to reserve an attempt of its own, as it did before).
	for arrived.Load() < int32(n) || gate.acquired.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(gate.open)
	wg.Wait()
	if got[200] != n {
		t.Fatalf("%d parallel requests with the right secret: %v, want all 200", n, got)
	}
	if a := gate.acquired.Load(); a != 1 {
		t.Errorf("%d verifications for one secret presented in parallel, want 1", a)
	}
}
