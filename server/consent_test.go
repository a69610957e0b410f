package server

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
)

// withConsent makes the public client require consent (remember: and
// allow remembering it) and brand itself.
func withConsent(remember bool) func(*Config) {
	return func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "spa" {
				c.Clients[i].RequireConsent = true
				c.Clients[i].AllowRememberConsent = remember
				c.Clients[i].DisplayName = "Example Portal"
			}
		}
	}
}

var reConsentField = regexp.MustCompile(`name="(request|csrf|form)" value="([^"]*)"`)

// consentForm returns the hidden fields of a consent page.
func consentForm(t *testing.T, p page) url.Values {
	t.Helper()
	if p.StatusCode != http.StatusOK || !strings.Contains(p.body, `action="`+PathConsent+`"`) {
		t.Fatalf("want the consent page, got %d %s: %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	v := url.Values{}
	for _, m := range reConsentField.FindAllStringSubmatch(p.body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// decide posts a consent decision.
func (b *browser) decide(f url.Values, decision string, remember bool) page {
	g := url.Values{}
	for k, v := range f {
		g[k] = slices.Clone(v)
	}
	g.Set("decision", decision)
	if remember {
		g.Set("remember", "1")
	}
	return b.post(b.e.issuer+PathConsent, g)
}

func TestConsentApproveAndDeny(t *testing.T) {
	e := newLoginEnv(t, withConsent(true))
	b := e.browser()
	// Signing in leads to the consent page, not to the client.
	p := b.signIn(spaRequest(), "alice", alicePassword)
	f := consentForm(t, p)
	for _, want := range []string{"Example Portal", "See your email address", "Keep access while you are away", "Use reports on your behalf: reports.read", `name="remember"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("consent page headers: CSP %q", csp)
	}
	// Deny: access_denied to the client, with its state.
	cb := e.callback(b.decide(f, "deny", false), spaRedirect)
	if cb.Get("error") != "access_denied" || cb.Get("state") != "st-1" || cb.Get("code") != "" {
		t.Fatalf("deny: %v", cb)
	}
	// The session stays: the next request shows the page again, without
	// a sign-in; approving without remembering gives a code.
	f = consentForm(t, b.authorize(spaRequest("state", "st-2")))
	cb = e.callback(b.decide(f, "approve", false), spaRedirect)
	if cb.Get("code") == "" || cb.Get("state") != "st-2" {
		t.Fatalf("approve: %v", cb)
	}
	if tok := e.exchange(cb.Get("code"), verifierForSPA); tok.StatusCode != 200 {
		t.Fatalf("the approved code: %d %s", tok.StatusCode, tok.body)
	}
	// Not remembered: asked again. Approve and remember.
	f = consentForm(t, b.authorize(spaRequest("state", "st-3")))
	if cb = e.callback(b.decide(f, "approve", true), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("approve and remember: %v", cb)
	}
	// Remembered: straight to the client, prompt=none too.
	if cb = e.callback(b.authorize(spaRequest("state", "st-4")), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("remembered consent: %v", cb)
	}
	if cb = e.callback(b.authorize(spaRequest("state", "st-5", "prompt", "none")), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("remembered consent, prompt=none: %v", cb)
	}
	// Fewer scopes are covered; prompt=consent forces the page.
	if cb = e.callback(b.authorize(spaRequest("scope", "openid email")), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("a subset of the remembered scopes: %v", cb)
	}
	consentForm(t, b.authorize(spaRequest("prompt", "consent")))
	// A new scope asks again; with prompt=none: consent_required.
	cb = e.callback(b.authorize(spaRequest("scope", "openid orders.read", "prompt", "none")), spaRedirect)
	if cb.Get("error") != "consent_required" || cb.Get("state") != "st-1" {
		t.Fatalf("a new scope with prompt=none: %v", cb)
	}
	f = consentForm(t, b.authorize(spaRequest("scope", "openid orders.read")))
	e.callback(b.decide(f, "approve", true), spaRedirect)
	rec, err := e.store.Consent(t.Context(), aliceSub, "spa")
	if err != nil || strings.Join(rec.Scopes, " ") != "email offline_access openid orders.read profile reports.read" {
		t.Fatalf("remembered scopes %v %v: want the union", rec.Scopes, err)
	}
}

func TestConsentNotRememberedWhenClientForbids(t *testing.T) {
	e := newLoginEnv(t, withConsent(false))
	b := e.browser()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	if strings.Contains(p.body, `name="remember"`) {
		t.Fatal("the page offers to remember a decision the client does not allow")
	}
	e.callback(b.decide(consentForm(t, p), "approve", true), spaRedirect) // remember sent anyway
	consentForm(t, b.authorize(spaRequest()))
	if recs, _ := e.store.Consents(t.Context(), ""); len(recs) != 0 {
		t.Fatalf("stored %v for a client without allowRememberConsent", recs)
	}
	cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect)
	if cb.Get("error") != "consent_required" {
		t.Fatalf("prompt=none: %v", cb)
	}
}

// TestConsentFormIsBound: the decision is bound to the browser, the
// login session, the pending request, and taken once.
func TestConsentFormIsBound(t *testing.T) {
	e := newLoginEnv(t, withConsent(true))
	b := e.browser()
	f := consentForm(t, b.signIn(spaRequest(), "alice", alicePassword))

	// Another browser (another site posting it: no cookies) is refused.
	other := e.browser()
	if p := other.decide(f, "approve", true); p.StatusCode != http.StatusForbidden {
		t.Fatalf("another browser: %d %s", p.StatusCode, p.body)
	}
	// Bob signed in elsewhere cannot use alice's form either.
	bob := e.browser()
	consentForm(t, bob.signIn(spaRequest(), "bob", bobPassword))
	if p := bob.decide(f, "approve", true); p.StatusCode != http.StatusForbidden {
		t.Fatalf("another session: %d", p.StatusCode)
	}
	// A changed request (more scopes) is refused.
	g := url.Values{"request": {strings.Replace(f.Get("request"), "openid", "openid+orders.read", 1)}, "csrf": {f.Get("csrf")}, "form": {f.Get("form")}}
	if p := b.decide(g, "approve", false); p.StatusCode != http.StatusForbidden {
		t.Fatalf("a changed request: %d %s", p.StatusCode, p.body)
	}
	// GET is refused.
	if p := b.get(e.issuer + PathConsent + "?" + f.Encode() + "&decision=approve"); p.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", p.StatusCode)
	}
	// The form works once.
	if cb := e.callback(b.decide(f, "approve", false), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("approve: %v", cb)
	}
	if p := b.decide(f, "approve", false); p.StatusCode != http.StatusConflict {
		t.Fatalf("the same form again: %d %s", p.StatusCode, p.body)
	}
	if recs, _ := e.store.Consents(t.Context(), ""); len(recs) != 0 {
		t.Fatalf("refused forms stored consent: %v", recs)
	}
	// After signing in again, a form of the old session is refused.
	f = consentForm(t, b.authorize(spaRequest()))
	consentForm(t, b.signIn(spaRequest("prompt", "login"), "alice", alicePassword))
	if p := b.decide(f, "approve", false); p.StatusCode != http.StatusForbidden {
		t.Fatalf("a form of an ended session: %d", p.StatusCode)
	}
}

// TestConsentWithPushedRequest: the consent page carries a pushed request
// by reference and uses it up once.
func TestConsentWithPushedRequest(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			c.Clients[i].RequireConsent = c.Clients[i].ID == "web"
		}
	})
	b := e.browser()
	push := func() string {
		q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {webRedirect}, "scope": {"openid profile"}, "state": {"pushed"}}
		req, _ := http.NewRequest("POST", e.issuer+PathPAR, strings.NewReader(q.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("web", webSecret)
		resp := e.do(nil, req)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PAR: %d %s", resp.StatusCode, resp.body)
		}
		return decode[struct {
			RequestURI string `json:"request_uri"`
			ExpiresIn  int    `json:"expires_in"`
		}](t, []byte(resp.body)).RequestURI
	}
	p := b.get(e.issuer + PathAuthorize + "?" + url.Values{"client_id": {"web"}, "request_uri": {push()}}.Encode())
	f := consentForm(t, b.submitLogin(b.get(p.Header.Get("Location")).body, "alice", alicePassword))
	if !strings.Contains(f.Get("request"), "request_uri=") {
		t.Fatalf("the pushed request is carried as %q", f.Get("request"))
	}
	if cb := e.callback(b.decide(f, "approve", false), webRedirect); cb.Get("code") == "" || cb.Get("state") != "pushed" {
		t.Fatalf("approve: %v", cb)
	}
	// Signed in: the consent page comes straight from authorize.
	f = consentForm(t, b.get(e.issuer+PathAuthorize+"?"+url.Values{"client_id": {"web"}, "request_uri": {push()}}.Encode()))
	if cb := e.callback(b.decide(f, "deny", false), webRedirect); cb.Get("error") != "access_denied" || cb.Get("state") != "pushed" {
		t.Fatalf("deny: %v", cb)
	}
}

// signedInBrowserConsented returns a browser where alice signed in and
// remembered her consent to the public client.
func (e *loginEnv) signedInBrowserConsented(t *testing.T) *browser {
	b := e.browser()
	e.callback(b.decide(consentForm(t, b.signIn(spaRequest(), "alice", alicePassword)), "approve", true), spaRedirect)
	return b
}

var reRevoke = regexp.MustCompile(`name="client_id" value="([^"]*)">\s*<input type="hidden" name="csrf" value="([^"]*)"`)

func TestAccountPageRevokesConsent(t *testing.T) {
	e := newLoginEnv(t, withConsent(true))
	// Not signed in: the page says so and lists nothing.
	if p := e.browser().get(e.issuer + PathAccount); p.StatusCode != 200 || !strings.Contains(p.body, "You are not signed in") {
		t.Fatalf("signed out: %d %s", p.StatusCode, p.body)
	}
	b := e.signedInBrowserConsented(t)
	p := b.get(e.issuer + PathAccount)
	m := reRevoke.FindStringSubmatch(p.body)
	if p.StatusCode != 200 || m == nil || m[1] != "spa" || !strings.Contains(p.body, "Example Portal") || !strings.Contains(p.body, "See your email address") {
		t.Fatalf("account page: %d %s", p.StatusCode, p.body)
	}
	// Without its CSRF token, or from another browser: refused.
	if p := b.post(e.issuer+PathAccount, url.Values{"client_id": {"spa"}}); p.StatusCode != http.StatusForbidden {
		t.Fatalf("without a token: %d", p.StatusCode)
	}
	if p := e.browser().post(e.issuer+PathAccount, url.Values{"client_id": {"spa"}, "csrf": {html.UnescapeString(m[2])}}); p.StatusCode != 200 || strings.Contains(p.body, "revoked") {
		t.Fatalf("another browser: %d %s", p.StatusCode, p.body)
	}
	if recs, _ := e.store.Consents(t.Context(), aliceSub); len(recs) != 1 {
		t.Fatalf("refused revocations changed the consents: %v", recs)
	}
	p = b.post(e.issuer+PathAccount, url.Values{"client_id": {"spa"}, "csrf": {html.UnescapeString(m[2])}})
	if p.StatusCode != 200 || !strings.Contains(p.body, "Access for Example Portal was revoked") || reRevoke.MatchString(p.body) {
		t.Fatalf("revoke: %d %s", p.StatusCode, p.body)
	}
	if recs, _ := e.store.Consents(t.Context(), aliceSub); len(recs) != 0 {
		t.Fatalf("after revoking: %v", recs)
	}
	consentForm(t, b.authorize(spaRequest())) // asked again
}

// TestIdleTimeout: a session unused for longer than the idle timeout ends;
// one used in time lives on, up to its lifetime.
func TestIdleTimeout(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) { c.SessionIdleTimeout = 10 * time.Minute; c.SessionLifetime = time.Hour })
	b := e.signedInBrowser()
	for range 4 { // 36 minutes of use, every 9 minutes
		e.clock.Add(9 * time.Minute)
		if cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect); cb.Get("code") == "" {
			t.Fatalf("a session used within the idle timeout ended: %v", cb)
		}
	}
	e.clock.Add(10*time.Minute + time.Second)
	if cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect); cb.Get("error") != "login_required" {
		t.Fatalf("an idle session: %v", cb)
	}
	// The lifetime still bounds a busy session.
	b = e.signedInBrowser()
	for range 7 {
		e.clock.Add(9 * time.Minute)
		b.authorize(spaRequest("prompt", "none"))
	}
	if cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect); cb.Get("error") != "login_required" {
		t.Fatalf("a session past its lifetime: %v", cb)
	}
}

// grantOnly hides every method of a store but grant.Store's.
type grantOnly struct{ grantstore.Store }

func TestIdleTimeoutNeedsActivityStore(t *testing.T) {
	_, err := New(Config{Issuer: "https://id.example.com", Keys: newFakeKeys(t), Grants: grantOnly{memstore.New()}, SessionIdleTimeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "SessionIdleTimeout needs a store") {
		t.Fatalf("New: %v", err)
	}
}
