package server

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/throttle"
)

func TestLoginPage(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	p := b.authorize(spaRequest("login_hint", "alice"))
	lp := b.get(p.Header.Get("Location"))
	if lp.StatusCode != 200 {
		t.Fatalf("%d %s", lp.StatusCode, lp.body)
	}
	for _, want := range []string{
		`<html lang="en">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<label for="username">Username</label>`,
		`<input id="username" name="username" type="text" value="alice" autocomplete="username"`,
		`<label for="password">Password</label>`,
		`<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>`,
		`<form method="post" action="/account/login">`,
		`<button type="submit">Sign in</button>`,
		`to continue to <strong>spa</strong>`,
		"<style>" + pageCSS + "</style>",
	} {
		if !strings.Contains(lp.body, want) {
			t.Errorf("the login page lacks %s", want)
		}
	}
	// No external assets, no scripts.
	for _, bad := range []string{"<script", "<link", "src=", "http://", "https://"} {
		if strings.Contains(lp.body, bad) {
			t.Errorf("the login page contains %q", bad)
		}
	}
	sum := sha256.Sum256([]byte(pageCSS))
	h := lp.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("headers %v", h)
	}
	var csrf *http.Cookie
	for _, c := range lp.Cookies() {
		if c.Name == csrfCookie {
			csrf = c
		}
	}
	if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode || csrf.Secure || csrf.Path != "/" {
		t.Fatalf("CSRF cookie %+v", csrf)
	}
	// The hidden request is the canonical authorization request.
	want := spaRequest("login_hint", "alice")
	got, _ := url.ParseQuery(formFields(t, lp.body).Get("request"))
	if got.Encode() != want.Encode() {
		t.Errorf("pending request %v, want %v", got, want)
	}
	// An invalid pending request never shows the form.
	if p := b.get(e.issuer + PathLogin + "?client_id=spa&redirect_uri=https://evil.example/"); p.StatusCode != 400 || strings.Contains(p.body, "<form") {
		t.Errorf("login page for a bad request: %d", p.StatusCode)
	}
}

// TestCookiesSecureOnHTTPS: with an https issuer every cookie is Secure.
func TestCookiesSecureOnHTTPS(t *testing.T) {
	clients, resources := loginClients(t)
	s, err := New(Config{Issuer: "https://login.example.com/tenant", Keys: newFakeKeys(t), Clients: clients, APIResources: resources,
		Grants: memstore.New(), Users: loginUsers(t), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/tenant"+PathLogin+"?"+spaRequest().Encode(), nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	csrf := w.Result().Cookies()[0]
	form := formFields(t, w.Body.String())
	form.Set("username", "alice")
	form.Set("password", alicePassword)
	r = httptest.NewRequest("POST", "/tenant"+PathLogin, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(csrf)
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	for _, c := range append(cs, csrf) {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/tenant/" {
			t.Errorf("cookie %+v", c)
		}
	}
	if cs[0].Name != sessionCookie || cs[0].MaxAge != int(DefaultSessionLifetime/time.Second) {
		t.Errorf("session cookie %+v", cs[0])
	}
}

func sessionCookieOf(p page) *http.Cookie {
	for _, c := range p.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	return nil
}

func TestLoginCSRF(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	fields := formFields(t, lp.body)
	post := func(b *browser, mod func(url.Values)) page {
		f := url.Values{"request": {fields.Get("request")}, "csrf": {fields.Get("csrf")}, "username": {"alice"}, "password": {alicePassword}}
		mod(f)
		return b.post(e.issuer+PathLogin, f)
	}
	refused := func(name string, p page) {
		t.Helper()
		if p.StatusCode != http.StatusForbidden || sessionCookieOf(p) != nil || p.Header.Get("Location") != "" ||
			!strings.Contains(p.body, msgFormExpired) || !strings.Contains(p.body, `name="csrf"`) {
			t.Errorf("%s: %d %v\n%s", name, p.StatusCode, p.Header, p.body)
		}
	}
	refused("tampered token", post(b, func(f url.Values) { f.Set("csrf", f.Get("csrf")[:10]+"AAAA"+f.Get("csrf")[14:]) }))
	refused("no token", post(b, func(f url.Values) { f.Del("csrf") }))
	// The token is bound to the pending request: another state is refused.
	refused("other request", post(b, func(f url.Values) {
		q, _ := url.ParseQuery(f.Get("request"))
		q.Set("state", "attacker")
		f.Set("request", q.Encode())
	}))
	// Another browser (no CSRF cookie, or another one) cannot submit it.
	refused("no cookie", post(e.browser(), func(url.Values) {}))
	other := e.browser()
	other.get(other.authorize(spaRequest()).Header.Get("Location"))
	refused("other cookie", post(other, func(url.Values) {}))
	// The form re-rendered after a refusal carries a working token.
	p := post(b, func(url.Values) {})
	if p.StatusCode != http.StatusSeeOther || sessionCookieOf(p) == nil {
		t.Fatalf("valid form: %d %s", p.StatusCode, p.body)
	}
}

func TestLoginFailures(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	wrong := b.submitLogin(lp.body, "alice", "wrong password")
	unknown := b.submitLogin(lp.body, "mallory", "wrong password")
	// No user enumeration: the same status and message; only the echoed
	// username differs.
	if wrong.StatusCode != 200 || unknown.StatusCode != 200 || sessionCookieOf(wrong) != nil || sessionCookieOf(unknown) != nil {
		t.Fatalf("%d %d", wrong.StatusCode, unknown.StatusCode)
	}
	strip := func(p page) string {
		s := strings.Replace(p.body, `value="alice"`, `value=""`, 1)
		s = strings.Replace(s, `value="mallory"`, `value=""`, 1)
		f := formFields(t, s)
		return strings.Replace(s, f.Get("csrf"), "", 1)
	}
	if !strings.Contains(wrong.body, msgBadCredentials) || strip(wrong) != strip(unknown) {
		t.Fatalf("responses differ:\n%s\n----\n%s", wrong.body, unknown.body)
	}
	// Passwords never reach the log.
	if strings.Contains(e.logs.String(), "wrong password") {
		t.Fatal("a password was logged")
	}
	// Empty fields.
	if p := b.submitLogin(lp.body, "alice", ""); p.StatusCode != 400 || !strings.Contains(p.body, msgMissing) {
		t.Fatalf("empty password: %d", p.StatusCode)
	}
	// A duplicate field is refused.
	f := formFields(t, lp.body)
	f["password"] = []string{"a", "b"}
	f.Set("username", "alice")
	if p := b.post(e.issuer+PathLogin, f); p.StatusCode != 400 {
		t.Fatalf("duplicate password: %d", p.StatusCode)
	}
}

// TestUnknownUserCost: an unknown username is verified against a dummy
// hash with the parameters of the most expensive configured one.
func TestUnknownUserCost(t *testing.T) {
	cheap := cheapPassword(t, "x")
	dear, err := clientauth.ParseSecret("$argon2id$v=19$m=64,t=2,p=1$c2lnbmV0LXRlc3Qtc2FsdA$" + strings.Repeat("A", 43))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := compileUsers([]User{{Subject: "a", Username: "a", Password: cheap}, {Subject: "b", Username: "b", Password: dear}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reg.dummy.Kind() != clientauth.KindArgon2id || reg.dummy.Cost() != dear.Cost() || reg.dummy.Verify("") {
		t.Fatalf("dummy %v cost %d, want %d", reg.dummy.Kind(), reg.dummy.Cost(), dear.Cost())
	}
	for _, bad := range [][]User{
		{{Subject: "a", Username: "a", Password: cheap}, {Subject: "a", Username: "b", Password: cheap}},
		{{Subject: "a", Username: "a", Password: cheap}, {Subject: "b", Username: "a", Password: cheap}},
		{{Subject: "a", Username: "a"}},
		{{Username: "a", Password: cheap}},
	} {
		if _, err := compileUsers(bad, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// The default login budgets the tests below spend.
var (
	userFailures  = DefaultLimits().LoginPerUserAndAddress.Max
	addrFailures  = DefaultLimits().LoginPerAddress.Max
	failureWindow = DefaultLimits().LoginPerAddress.Window
)

func TestLoginRateLimit(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	for i := range userFailures {
		if p := b.submitLogin(lp.body, "alice", "guess"+strconv.Itoa(i)); p.StatusCode != 200 {
			t.Fatalf("failure %d: %d", i, p.StatusCode)
		}
	}
	// Blocked, even with the right password, and whatever the case.
	for _, name := range []string{"alice", "ALICE"} {
		p := b.submitLogin(lp.body, name, alicePassword)
		if p.StatusCode != http.StatusTooManyRequests || sessionCookieOf(p) != nil || p.Header.Get("Retry-After") != strconv.Itoa(int(failureWindow/time.Second)) ||
			!strings.Contains(p.body, "Try again in 15 minutes") {
			t.Fatalf("%s after %d failures: %d %v", name, userFailures, p.StatusCode, p.Header)
		}
	}
	// Another user is not blocked.
	if p := b.submitLogin(lp.body, "bob", bobPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob: %d", p.StatusCode)
	}
	// The window passes.
	e.clock.Add(failureWindow)
	if p := b.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d %s", p.StatusCode, p.body)
	}

	// Per address: many usernames from one address.
	for i := range addrFailures {
		b.submitLogin(lp.body, fmt.Sprintf("user%d", i), "x")
	}
	if p := b.submitLogin(lp.body, "bob", bobPassword); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("address after %d failures: %d", addrFailures, p.StatusCode)
	}
}

// forwardedFor is a transport that says, as a proxy would, which client
// it forwards.
type forwardedFor struct{ client string }

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.client)
	return http.DefaultTransport.RoundTrip(r)
}

// TestLoginRateLimitBehindProxy: behind a trusted proxy (the test's
// loopback peer), each forwarded client has its own address budget.
func TestLoginRateLimitBehindProxy(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	from := func(client string) *browser {
		b := e.browser()
		b.c.Transport = forwardedFor{client}
		return b
	}
	one, two := from("203.0.113.1"), from("203.0.113.2")
	lp := one.get(one.authorize(spaRequest()).Header.Get("Location"))
	for i := range addrFailures {
		one.submitLogin(lp.body, fmt.Sprintf("user%d", i), "x")
	}
	if p := one.submitLogin(lp.body, "bob", bobPassword); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("203.0.113.1 after %d failures: %d", addrFailures, p.StatusCode)
	}
	lp2 := two.get(two.authorize(spaRequest()).Header.Get("Location"))
	if p := two.submitLogin(lp2.body, "bob", bobPassword); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("203.0.113.2 is blocked with 203.0.113.1: %d", p.StatusCode)
	}
	if !strings.Contains(e.logs.String(), "address=203.0.113.1") {
		t.Fatalf("the failures are not logged with the forwarded address:\n%s", e.logs.String())
	}
}

func TestAddrKey(t *testing.T) {
	s := &Server{}
	for addr, want := range map[string]string{
		"192.0.2.7:5555":             "a:192.0.2.7",
		"[::ffff:192.0.2.7]:5555":    "a:192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "a:2001:db8:1:2::/64",
		"[2001:db8:1:2:ff::1]:443":   "a:2001:db8:1:2::/64",
		"[fe80::1%eth0]:443":         "a:fe80::/64",
		"pipe":                       "a:pipe",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if got := s.addrKey(r); got != want {
			t.Errorf("addrKey(%s) = %s, want %s", addr, got, want)
		}
	}
}

// TestClientAddrBehindProxies: X-Forwarded-For counts only when the peer
// is a trusted proxy, and then only up to the first hop that is not one;
// what a client writes into the header itself (the left part) is ignored.
func TestClientAddrBehindProxies(t *testing.T) {
	s := &Server{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32")}}
	for _, tc := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.7:1", []string{"203.0.113.9"}, "198.51.100.7"},        // not a proxy: the header is the client's
		{"10.1.2.3:1", []string{"203.0.113.9"}, "203.0.113.9"},             // one trusted proxy
		{"10.1.2.3:1", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},    // the client's own entry is left of the real one
		{"10.1.2.3:1", []string{"203.0.113.9, 192.0.2.10"}, "203.0.113.9"}, // two proxies, one header
		{"10.1.2.3:1", []string{"203.0.113.9", "10.9.9.9"}, "203.0.113.9"}, // two proxies, two headers
		{"10.1.2.3:1", nil, "10.1.2.3"},                                    // no header: the proxy itself
		{"10.1.2.3:1", []string{"6.6.6.6, garbage, 10.9.9.9"}, "10.9.9.9"}, // stops at a malformed hop
		{"10.1.2.3:1", []string{"10.9.9.9"}, "10.9.9.9"},                   // only proxies: the farthest one
		{"[::ffff:10.1.2.3]:1", []string{"2001:db8::1"}, "2001:db8::1"},    // a mapped peer is still trusted
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got, ok := s.clientAddr(r); !ok || got.String() != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %v %v, want %s", tc.peer, tc.xff, got, ok, tc.want)
		}
	}
}

// TestUnknownUserSignInCost: signing in as an unknown user costs what a wrong
// password costs (the dummy hash is verified, with the configuration's
// parameters), so timing does not tell which usernames exist. Counted
// under the hashing budget, not timed.
func TestUnknownUserSignInCost(t *testing.T) {
	salt := []byte("signet-test-salt")
	const mem, passes = 16 << 10, 2
	h := argon2.IDKey([]byte(alicePassword), salt, passes, mem, 1, 32)
	dear := secret(t, fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", mem, passes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)))
	hashing := throttle.NewHashing(0, 0)
	e := newLoginEnv(t, func(c *Config) {
		c.Users = []User{{Subject: aliceSub, Username: "alice", Password: dear}}
		c.Hashing = hashing
	})
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	cost := func(username string, i int) (n, kib uint64) {
		n0, kib0 := hashing.Acquired()
		if p := b.submitLogin(lp.body, username, "wrong"+strconv.Itoa(i)); p.StatusCode != 200 {
			t.Fatalf("%s: %d", username, p.StatusCode)
		}
		n1, kib1 := hashing.Acquired()
		return n1 - n0, kib1 - kib0
	}
	wrongN, wrongKiB := cost("alice", 0)
	if wrongN != 1 || wrongKiB != mem {
		t.Fatalf("a wrong password: %d argon2id checks of %d KiB in all; want 1 of %d", wrongN, wrongKiB, mem)
	}
	for i := range 2 { // the dummy is made once: the first and a later unknown user
		if n, kib := cost("nobody", i); n != wrongN || kib != wrongKiB {
			t.Fatalf("an unknown user: %d argon2id checks of %d KiB; a wrong password: %d of %d: the difference tells which usernames exist", n, kib, wrongN, wrongKiB)
		}
	}
}
