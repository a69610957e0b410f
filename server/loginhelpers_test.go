package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/argon2"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
)

// testClock is a clock tests move.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cheapPassword hashes a password with the cheapest argon2id parameters
// the parser accepts, so tests stay fast.
func cheapPassword(t testing.TB, pw string) *clientauth.Secret {
	t.Helper()
	salt := []byte("signet-test-salt")
	h := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	return secret(t, fmt.Sprintf("$argon2id$v=19$m=8,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)))
}

// Test clients of the login flows.
const (
	spaRedirect    = "https://spa.example.com/cb"
	spaLogout      = "https://spa.example.com/bye"
	webRedirect    = "https://web.example.com/cb?tenant=1"
	reportsSecret  = "reports-introspection-secret"
	aliceSub       = "user-alice"
	alicePassword  = "correct horse battery staple"
	bobPassword    = "bob's password"
	webSecret      = "web-secret"
	verifierForSPA = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk0" // 44 characters
)

func loginClients(t testing.TB) ([]Client, []APIResource) {
	clients, resources := testClients(t)
	for i := range resources {
		if resources[i].Name == "reports" {
			resources[i].Secrets = []*clientauth.Secret{secret(t, "plain:"+reportsSecret)}
		}
	}
	clients = append(clients,
		Client{ID: "spa", Public: true, GrantTypes: []string{grantAuthorizationCode, grantRefreshToken},
			Scopes: []string{"reports.read", "orders.read"}, IdentityScopes: []string{"openid", "profile", "email", "offline_access"},
			RedirectURIs: []string{spaRedirect}, PostLogoutRedirectURIs: []string{spaLogout},
			AccessTokenLifetime: 10 * time.Minute, RefreshTokenLifetime: 24 * time.Hour},
		Client{ID: "web", Secrets: []*clientauth.Secret{secret(t, "plain:"+webSecret)}, GrantTypes: []string{grantAuthorizationCode},
			IdentityScopes: []string{"openid", "profile"}, RedirectURIs: []string{webRedirect},
			AllowedIdentityTokenSigningAlgorithms: []key.Algorithm{key.EdDSA}, AccessTokenLifetime: 5 * time.Minute},
	)
	return clients, resources
}

func loginUsers(t testing.TB) []User {
	return []User{
		{Subject: aliceSub, Username: "alice", Password: cheapPassword(t, alicePassword),
			Claims: map[string]any{"name": "Alice Liddell", "given_name": "Alice", "email": "alice@example.com", "email_verified": true}},
		{Subject: "user-bob", Username: "bob", Password: cheapPassword(t, bobPassword)},
	}
}

// loginEnv is a server with the login flows on a real listener, its
// issuer the listener's URL, a memory grant store and a test clock.
type loginEnv struct {
	t      *testing.T
	s      *Server
	ts     *httptest.Server
	keys   *fakeKeys
	store  *memstore.Store
	clock  *testClock
	issuer string
	logs   *lockedBuffer
}

func newLoginEnv(t *testing.T, mod ...func(*Config)) *loginEnv {
	t.Helper()
	return newLoginEnvAt(t, "", mod...)
}

// newLoginEnvAt is newLoginEnv with the issuer's host name host ("": the
// listener's address): two servers on one machine whose browser cookies
// must not mix (cookies do not tell ports apart) need two names.
func newLoginEnvAt(t *testing.T, host string, mod ...func(*Config)) *loginEnv {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	addr := ts.Listener.Addr().String()
	if host != "" {
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(host, port)
	}
	e := &loginEnv{t: t, ts: ts, keys: newFakeKeys(t), store: memstore.New(), clock: &testClock{t: testNow},
		issuer: "http://" + addr, logs: &lockedBuffer{}}
	clients, resources := loginClients(t)
	cfg := Config{Issuer: e.issuer, Keys: e.keys, Clients: clients, APIResources: resources, Grants: e.store,
		Users: loginUsers(t), Now: e.clock.Now, Logger: testLogger(e.logs)}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e *loginEnv
	c *http.Client
}

func (e *loginEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response with its body read.
type page struct {
	*http.Response
	body string
}

func (e *loginEnv) do(c *http.Client, req *http.Request) page {
	e.t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return page{resp, string(b)}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest("GET", u, nil)
	return b.e.do(b.c, req)
}

func (b *browser) post(u string, form url.Values) page {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.e.do(b.c, req)
}

// pkce returns a verifier and its S256 challenge.
func pkce(verifier string) (string, string) {
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// withParams sets q's parameters from extra's name/value pairs (an empty
// value deletes the parameter) and returns q.
func withParams(q url.Values, extra ...string) url.Values {
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return q
}

// spaRequest is an authorization request of the public client.
func spaRequest(extra ...string) url.Values {
	_, ch := pkce(verifierForSPA)
	q := url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {spaRedirect},
		"scope": {"openid profile email offline_access reports.read"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {ch}, "code_challenge_method": {"S256"}}
	return withParams(q, extra...)
}

func (b *browser) authorize(q url.Values) page {
	return b.get(b.e.issuer + PathAuthorize + "?" + q.Encode())
}

var (
	reHidden = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)
)

// formFields returns the hidden fields of a rendered login form.
func formFields(t testing.TB, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("request") == "" || v.Get("csrf") == "" {
		t.Fatalf("no login form in:\n%s", body)
	}
	return v
}

// signIn follows an authorization request through the login page and
// returns the final response (a redirect to the client, or a page).
func (b *browser) signIn(q url.Values, username, password string) page {
	b.e.t.Helper()
	p := b.authorize(q)
	if p.StatusCode != http.StatusFound || !strings.HasPrefix(p.Header.Get("Location"), b.e.issuer+PathLogin) {
		b.e.t.Fatalf("authorize: want a redirect to the login page, got %d %s %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	lp := b.get(p.Header.Get("Location"))
	if lp.StatusCode != 200 {
		b.e.t.Fatalf("login page: %d %s", lp.StatusCode, lp.body)
	}
	return b.submitLogin(lp.body, username, password)
}

func (b *browser) submitLogin(loginPage, username, password string) page {
	f := formFields(b.e.t, loginPage)
	f.Set("username", username)
	f.Set("password", password)
	return b.post(b.e.issuer+PathLogin, f)
}

// callback parses a redirect to the client and checks iss (RFC 9207).
func (e *loginEnv) callback(p page, redirectURI string) url.Values {
	e.t.Helper()
	if p.StatusCode != http.StatusFound && p.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("want a redirect to the client, got %d: %s", p.StatusCode, p.body)
	}
	loc := p.Header.Get("Location")
	base, _, _ := strings.Cut(redirectURI, "?")
	if !strings.HasPrefix(loc, base+"?") {
		e.t.Fatalf("redirect to %q, want %s", loc, redirectURI)
	}
	u, err := url.Parse(loc)
	if err != nil {
		e.t.Fatal(err)
	}
	q := u.Query()
	if q.Get("iss") != e.issuer {
		e.t.Fatalf("iss = %q, want %q (RFC 9207)", q.Get("iss"), e.issuer)
	}
	return q
}

// code signs alice in through the public client and returns the code.
func (e *loginEnv) code(b *browser, q url.Values) string {
	e.t.Helper()
	cb := e.callback(b.signIn(q, "alice", alicePassword), spaRedirect)
	if cb.Get("code") == "" || cb.Get("state") != q.Get("state") {
		e.t.Fatalf("callback %v", cb)
	}
	return cb.Get("code")
}

// token posts to the token endpoint.
func (e *loginEnv) token(form url.Values, basic ...string) page {
	req, _ := http.NewRequest("POST", e.issuer+PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return e.do(nil, req)
}

func (e *loginEnv) exchange(code, verifier string) page {
	return e.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code},
		"redirect_uri": {spaRedirect}, "code_verifier": {verifier}})
}

func (e *loginEnv) refresh(rt string) page {
	return e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {rt}})
}

// tokens decodes a successful token response.
func (e *loginEnv) tokens(p page) userTokenResponse {
	e.t.Helper()
	if p.StatusCode != 200 {
		e.t.Fatalf("token response %d: %s", p.StatusCode, p.body)
	}
	var r userTokenResponse
	if err := json.Unmarshal([]byte(p.body), &r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// oauthErr checks an RFC 6749 error response.
func (e *loginEnv) oauthErr(p page, status int, code string) {
	e.t.Helper()
	if p.StatusCode != status {
		e.t.Fatalf("status %d, want %d: %s", p.StatusCode, status, p.body)
	}
	var er errorResponse
	if err := json.Unmarshal([]byte(p.body), &er); err != nil || er.Error != code {
		e.t.Fatalf("error %q, want %q: %s", er.Error, code, p.body)
	}
}

// userinfo calls the UserInfo endpoint with a bearer token.
func (e *loginEnv) userinfo(at string) page {
	req, _ := http.NewRequest("GET", e.issuer+PathUserinfo, nil)
	if at != "" {
		req.Header.Set("Authorization", "Bearer "+at)
	}
	return e.do(nil, req)
}

// introspect asks as the reports resource.
func (e *loginEnv) introspect(token string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.issuer+PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("reports", reportsSecret)
	p := e.do(nil, req)
	if p.StatusCode != 200 {
		e.t.Fatalf("introspect: %d %s", p.StatusCode, p.body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// jwtParts verifies a token against the fake keys and returns its header
// and claims.
func (e *loginEnv) jwtParts(token string) (jose.Header, map[string]any) {
	e.t.Helper()
	sig, err := jose.ParseSignedCompact(token, signatureAlgorithms())
	if err != nil {
		e.t.Fatal(err)
	}
	h := sig.Signatures[0].Protected
	var pub any
	for _, k := range e.keys.keys {
		if k.KID() == h.KeyID {
			pub = k.Public()
		}
	}
	payload, err := sig.Verify(pub)
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		e.t.Fatal(err)
	}
	return h, m
}

// signedInBrowser returns a browser with alice's session; the code it
// got is not used.
func (e *loginEnv) signedInBrowser() *browser {
	e.t.Helper()
	b := e.browser()
	e.code(b, spaRequest())
	return b
}
