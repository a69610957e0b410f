package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// par posts a pushed authorization request, with HTTP Basic when basic
// names client and secret.
func (e *loginEnv) par(form url.Values, basic ...string) page {
	req, _ := http.NewRequest("POST", e.issuer+PathPAR, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return e.do(nil, req)
}

// webRequest is an authorization request of the confidential client web.
func webRequest(extra ...string) url.Values {
	_, ch := pkce(verifierForSPA)
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {webRedirect},
		"scope": {"openid profile"}, "state": {"pushed-state"}, "nonce": {"n-1"},
		"code_challenge": {ch}, "code_challenge_method": {"S256"}}
	return withParams(q, extra...)
}

// pushed pushes q as web and returns the request_uri.
func (e *loginEnv) pushed(q url.Values) string {
	e.t.Helper()
	p := e.par(q, "web", webSecret)
	if p.StatusCode != http.StatusCreated {
		e.t.Fatalf("PAR: %d %s", p.StatusCode, p.body)
	}
	var r struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(p.body), &r); err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(r.RequestURI, RequestURIPrefix) || len(r.RequestURI) < len(RequestURIPrefix)+43 || r.ExpiresIn != 60 {
		e.t.Fatalf("PAR response %s", p.body)
	}
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("Content-Type") != "application/json" {
		e.t.Fatalf("PAR headers %v", p.Header)
	}
	return r.RequestURI
}

// byReference is the front-channel request for a pushed request uri,
// with parameters that must be ignored.
func byReference(client, uri string) url.Values {
	return url.Values{"client_id": {client}, "request_uri": {uri},
		"redirect_uri": {"https://evil.example/cb"}, "state": {"front-channel"}, "scope": {"openid email"}}
}

// TestPARFlow: a pushed request (client_secret_basic) is answered 201
// with a request_uri; the authorization endpoint takes client_id and it,
// ignores every other parameter, and the sign-in across the login page
// keeps the pushed request by reference; the code is redeemed.
func TestPARFlow(t *testing.T) {
	e := newLoginEnv(t)
	uri := e.pushed(webRequest())
	b := e.browser()
	p := b.authorize(byReference("web", uri))
	loc := p.Header.Get("Location")
	if p.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.issuer+PathLogin+"?") {
		t.Fatalf("authorize: %d %s %s", p.StatusCode, loc, p.body)
	}
	// The login page gets the request by reference: nothing the user
	// agent could change but the reference.
	lq, _ := url.Parse(loc)
	if q := lq.Query(); len(q) != 2 || q.Get("client_id") != "web" || !strings.HasPrefix(q.Get("request_uri"), pendingPrefix) {
		t.Fatalf("login page query %v", q)
	}
	lp := b.get(loc)
	if lp.StatusCode != 200 {
		t.Fatalf("login page: %d %s", lp.StatusCode, lp.body)
	}
	cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect)
	if cb.Get("code") == "" || cb.Get("state") != "pushed-state" {
		t.Fatalf("callback %v: want a code and the pushed state", cb)
	}
	tr := e.tokens(e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {webRedirect}, "code_verifier": {verifierForSPA}}, "web", webSecret))
	if _, claims := e.jwtParts(tr.IDToken); claims["nonce"] != "n-1" || claims["email"] != nil {
		t.Fatalf("ID token claims %v: want the pushed nonce and scope", claims)
	}

	// client_secret_post works too, and a signed-in browser gets its code
	// at once.
	q := webRequest("state", "second")
	q.Set("client_secret", webSecret)
	p = e.par(q)
	if p.StatusCode != http.StatusCreated {
		t.Fatalf("client_secret_post: %d %s", p.StatusCode, p.body)
	}
	var r struct {
		RequestURI string `json:"request_uri"`
	}
	json.Unmarshal([]byte(p.body), &r)
	if cb := e.callback(b.authorize(byReference("web", r.RequestURI)), webRedirect); cb.Get("code") == "" || cb.Get("state") != "second" {
		t.Fatalf("signed in: %v", cb)
	}
}

// pageErrorCode checks that p is the error page naming code (no redirect:
// the redirect URI is not known).
func pageErrorCode(t *testing.T, p page, code string) {
	t.Helper()
	if p.StatusCode != http.StatusBadRequest || p.Header.Get("Location") != "" || !strings.Contains(p.body, code) {
		t.Fatalf("want the error page with %s, got %d %s %s", code, p.StatusCode, p.Header.Get("Location"), p.body)
	}
}

// TestPARSingleUse: a request_uri is used once, and so is the pending
// request of the login page: a second form post (a replay) is refused.
func TestPARSingleUse(t *testing.T) {
	e := newLoginEnv(t)
	uri := e.pushed(webRequest())
	b := e.browser()
	lp := b.get(b.authorize(byReference("web", uri)).Header.Get("Location"))
	pageErrorCode(t, e.browser().authorize(byReference("web", uri)), "invalid_request_uri")

	if cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect); cb.Get("code") == "" {
		t.Fatalf("first sign-in: %v", cb)
	}
	pageErrorCode(t, b.submitLogin(lp.body, "alice", alicePassword), "invalid_request_uri")
	// The pending reference is not a request_uri of the authorization
	// endpoint, nor a pushed URN one of the login page.
	lq, _ := url.Parse(e.browser().authorize(byReference("web", e.pushed(webRequest()))).Header.Get("Location"))
	pageErrorCode(t, e.browser().authorize(byReference("web", lq.Query().Get("request_uri"))), "invalid_request_uri")
	pageErrorCode(t, b.get(e.issuer+PathLogin+"?"+url.Values{"client_id": {"web"}, "request_uri": {e.pushed(webRequest())}}.Encode()), "invalid_request_uri")
}

// TestPARConcurrentUse: of concurrent authorization requests with one
// request_uri, exactly one is served.
func TestPARConcurrentUse(t *testing.T) {
	e := newLoginEnv(t)
	uri := e.pushed(webRequest())
	var wg sync.WaitGroup
	var served atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p := e.browser().authorize(byReference("web", uri)); p.StatusCode == http.StatusFound {
				served.Add(1)
			}
		}()
	}
	wg.Wait()
	if served.Load() != 1 {
		t.Fatalf("%d of 8 concurrent uses served, want 1", served.Load())
	}
}

// TestPARExpiry: a request_uri lives PushedRequestLifetime (60 s).
func TestPARExpiry(t *testing.T) {
	e := newLoginEnv(t)
	fresh, stale := e.pushed(webRequest()), e.pushed(webRequest())
	e.clock.Add(PushedRequestLifetime - time.Second)
	if p := e.browser().authorize(byReference("web", fresh)); p.StatusCode != http.StatusFound {
		t.Fatalf("59 s old: %d %s", p.StatusCode, p.body)
	}
	e.clock.Add(time.Second)
	pageErrorCode(t, e.browser().authorize(byReference("web", stale)), "invalid_request_uri")

	// The pending request of the login page lives longer: a slow sign-in
	// still works after the request_uri expired, but not for ever.
	b := e.browser()
	lp := b.get(b.authorize(byReference("web", e.pushed(webRequest()))).Header.Get("Location"))
	e.clock.Add(10 * time.Minute)
	if cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect); cb.Get("code") == "" {
		t.Fatalf("sign-in 10 minutes later: %v", cb)
	}
	b = e.browser()
	lp = b.get(b.authorize(byReference("web", e.pushed(webRequest()))).Header.Get("Location"))
	e.clock.Add(PendingSignInLifetime)
	pageErrorCode(t, b.submitLogin(lp.body, "alice", alicePassword), "invalid_request_uri")
}

// TestPARClientMismatch: client_id at the authorization endpoint must be
// the client that pushed the request, and at the PAR endpoint the client
// that authenticated.
func TestPARClientMismatch(t *testing.T) {
	e := newLoginEnv(t)
	pageErrorCode(t, e.browser().authorize(byReference("spa", e.pushed(webRequest()))), "client_id does not match")
	pageErrorCode(t, e.browser().authorize(url.Values{"request_uri": {e.pushed(webRequest())}}), "client_id is missing")
	e.oauthErr(e.par(webRequest("client_id", "spa"), "web", webSecret), http.StatusBadRequest, "invalid_request")
}

// TestPARRefusals: every request the PAR endpoint refuses, with the
// error in its JSON response; nothing is stored for any of them.
func TestPARRefusals(t *testing.T) {
	e := newLoginEnv(t)
	long := "openid " + strings.Repeat("unknown-scope ", MaxPushedRequestBytes/14+1)
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
	}{
		{"no client authentication", webRequest(), nil, 401, "invalid_client"},
		{"wrong secret", webRequest(), []string{"web", "wrong"}, 401, "invalid_client"},
		{"public client", spaRequest(), nil, 401, "invalid_client"},
		{"unknown client", webRequest("client_id", "nobody"), []string{"nobody", "x"}, 401, "invalid_client"},
		{"another client_id", webRequest("client_id", "spa"), []string{"web", webSecret}, 400, "invalid_request"},
		{"request_uri", webRequest("request_uri", RequestURIPrefix+"x"), []string{"web", webSecret}, 400, "invalid_request"},
		{"no redirect_uri", webRequest("redirect_uri", ""), []string{"web", webSecret}, 400, "invalid_request"},
		{"unregistered redirect_uri", webRequest("redirect_uri", "https://evil.example/cb"), []string{"web", webSecret}, 400, "invalid_request"},
		{"no response_type", webRequest("response_type", ""), []string{"web", webSecret}, 400, "invalid_request"},
		{"response_type token", webRequest("response_type", "token"), []string{"web", webSecret}, 400, "unsupported_response_type"},
		{"scope not allowed", webRequest("scope", "openid email"), []string{"web", webSecret}, 400, "invalid_scope"},
		{"plain PKCE", webRequest("code_challenge_method", "plain"), []string{"web", webSecret}, 400, "invalid_request"},
		{"malformed challenge", webRequest("code_challenge", "short"), []string{"web", webSecret}, 400, "invalid_request"},
		{"unknown prompt", webRequest("prompt", "create"), []string{"web", webSecret}, 400, "invalid_request"},
		{"request object of a client without keys", webRequest("request", "eyJ.eyJ.sig"), []string{"web", webSecret}, 400, "invalid_request_object"},
		{"too large to store", webRequest("scope", long), []string{"web", webSecret}, 400, "invalid_request"},
		{"client without the code flow", url.Values{"response_type": {"code"}, "client_id": {"billing"}, "redirect_uri": {webRedirect}, "scope": {"openid"}},
			[]string{"billing", "billing-secret"}, 400, "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.par(tc.form, tc.basic...)
			e.oauthErr(p, tc.status, tc.code)
			if p.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", p.Header.Get("Cache-Control"))
			}
		})
	}
	// Not POST, a query, another content type, a body too large.
	req, _ := http.NewRequest("GET", e.issuer+PathPAR, nil)
	if p := e.do(nil, req); p.StatusCode != http.StatusMethodNotAllowed || p.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d %v", p.StatusCode, p.Header)
	}
	req, _ = http.NewRequest("POST", e.issuer+PathPAR+"?client_id=web", strings.NewReader(webRequest().Encode()))
	req.Header.Set("Content-Type", formContentType)
	req.SetBasicAuth("web", webSecret)
	e.oauthErr(e.do(nil, req), 400, "invalid_request")
	req, _ = http.NewRequest("POST", e.issuer+PathPAR, strings.NewReader(webRequest().Encode()))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("web", webSecret)
	e.oauthErr(e.do(nil, req), http.StatusUnsupportedMediaType, "invalid_request")
	e.oauthErr(e.par(webRequest("state", strings.Repeat("s", DefaultMaxBodyBytes)), "web", webSecret), http.StatusRequestEntityTooLarge, "invalid_request")

	// Nothing was stored: every grant in the store would expire before
	// the far future.
	if n, err := e.store.DeleteExpired(context.Background(), testNow.AddDate(100, 0, 0)); err != nil || n != 0 {
		t.Fatalf("%d grants stored by refused requests (%v)", n, err)
	}
}

// TestRequirePAR: a client with RequirePushedAuthorizationRequests, or
// every client with the server-wide setting, gets invalid_request for a
// plain authorization request, also through the login page's query; its
// pushed requests work; discovery says so for the server-wide setting.
func TestRequirePAR(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mod       func(*Config)
		discovery bool
	}{
		{"per client", func(c *Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == "web" {
					c.Clients[i].RequirePushedAuthorizationRequests = true
				}
			}
		}, false},
		{"server-wide", func(c *Config) { c.RequirePushedAuthorizationRequests = true }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLoginEnv(t, tc.mod)
			b := e.browser()
			for _, p := range []page{b.authorize(webRequest()), b.get(e.issuer + PathLogin + "?" + webRequest().Encode())} {
				if cb := e.callback(p, webRedirect); cb.Get("error") != "invalid_request" || !strings.Contains(cb.Get("error_description"), "must push") {
					t.Fatalf("plain request: %v", cb)
				}
			}
			// A forged pending reference does not help either.
			pageErrorCode(t, b.get(e.issuer+PathLogin+"?"+url.Values{"client_id": {"web"}, "request_uri": {pendingPrefix + "forged"}}.Encode()), "invalid_request_uri")
			lp := b.get(b.authorize(byReference("web", e.pushed(webRequest()))).Header.Get("Location"))
			if cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect); cb.Get("code") == "" {
				t.Fatalf("pushed: %v", cb)
			}
			spa := e.callback(b.authorize(spaRequest()), spaRedirect)
			if tc.discovery != (spa.Get("error") == "invalid_request") {
				t.Errorf("the other client's plain request: %v", spa)
			}
			d := b.get(e.issuer + PathDiscovery).body
			if got := strings.Contains(d, `"require_pushed_authorization_requests":true`); got != tc.discovery {
				t.Errorf("discovery require_pushed_authorization_requests %v, want %v: %s", got, tc.discovery, d)
			}
		})
	}
}

// TestPARAcrossInstances: two instances on one PostgreSQL schema: a
// request pushed at one is used at the other, once.
func TestPARAcrossInstances(t *testing.T) {
	var target atomic.Int32
	e := newClusterEnv(t, 2, func(*http.Request) int { return int(target.Load()) }, func(c *Config) {
		c.Users = loginUsers(t)
		c.Attempts = nil // per-instance budgets, as before
	})

	uri := e.pushed(webRequest()) // at instance 0
	target.Store(1)
	b := e.browser()
	p := b.authorize(byReference("web", uri))
	if p.StatusCode != http.StatusFound {
		t.Fatalf("authorize at the other instance: %d %s", p.StatusCode, p.body)
	}
	target.Store(0)
	pageErrorCode(t, e.browser().authorize(byReference("web", uri)), "invalid_request_uri")
	lp := b.get(p.Header.Get("Location")) // the pending request, at instance 0
	target.Store(1)
	if cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect); cb.Get("code") == "" {
		t.Fatalf("sign-in at instance 1: %v", cb)
	}
}

// TestPARLoginUI: with the application's own login page, a pushed
// request reaches it by reference too; Complete issues one code, Cancel
// returns access_denied and uses the request up, and a continuation
// resumes it (ResumeLogin).
func TestPARLoginUI(t *testing.T) {
	ui := &testLoginUI{}
	e := newLoginEnv(t, withLoginUI(ui))
	b := e.browser()
	lp := b.get(b.authorize(byReference("web", e.pushed(webRequest()))).Header.Get("Location"))
	if lr := ui.last.Load(); lp.StatusCode != 200 || lr.ClientID != "web" || !strings.Contains(lr.ID(), "request_uri=") {
		t.Fatalf("custom page: %d %s", lp.StatusCode, lp.body)
	}
	if cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect); cb.Get("code") == "" || cb.Get("state") != "pushed-state" {
		t.Fatalf("complete: %v", cb)
	}
	pageErrorCode(t, b.submitLogin(lp.body, "alice", alicePassword), "invalid_request_uri")

	c := e.browser()
	lp = c.get(c.authorize(byReference("web", e.pushed(webRequest("state", "to-cancel")))).Header.Get("Location"))
	cont := ui.last.Load().Continuation()
	f := formFields(t, lp.body)
	f.Set("cancel", "1")
	if cb := e.callback(c.post(e.issuer+PathLogin, f), webRedirect); cb.Get("error") != "access_denied" || cb.Get("state") != "to-cancel" {
		t.Fatalf("cancel: %v", cb)
	}
	r, _ := http.NewRequest("GET", e.issuer+"/app/upstream-callback", nil)
	for _, ck := range c.c.Jar.Cookies(mustURL(t, e.issuer+"/")) {
		r.AddCookie(ck)
	}
	if _, err := e.s.ResumeLogin(r, cont); !errors.Is(err, ErrInvalidContinuation) {
		t.Fatalf("resuming a cancelled pushed request: %v", err)
	}

	d := e.browser()
	d.get(d.authorize(byReference("web", e.pushed(webRequest("state", "resumed")))).Header.Get("Location"))
	cont = ui.last.Load().Continuation()
	r, _ = http.NewRequest("GET", e.issuer+"/app/upstream-callback", nil)
	for _, ck := range d.c.Jar.Cookies(mustURL(t, e.issuer+"/")) {
		r.AddCookie(ck)
	}
	lr, err := e.s.ResumeLogin(r, cont)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	w := httptest.NewRecorder()
	lr.Complete(w, r, aliceSub)
	if loc, _ := url.Parse(w.Header().Get("Location")); loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "resumed" {
		t.Fatalf("Complete after resume: %d %v", w.Code, w.Header())
	}
}
