package server

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/oauth"
)

const bankRedirect = "https://bank.example.com/cb"

// testKeyJWT stands in for private_key_jwt in these tests (the method
// itself is tested with its package): a request presents it with the
// X-Test-Client header naming the client. What is tested here is what the
// server enforces for a FAPI 2.0 client, whatever the method's checks.
type testKeyJWT struct{}

func (testKeyJWT) Name() string { return "private_key_jwt" }

func (testKeyJWT) Present(r *clientauthn.Request) (clientauthn.Presented, bool, *oauth.Error) {
	id := r.HTTP.Header.Get("X-Test-Client")
	if id == "" {
		return clientauthn.Presented{}, false, nil
	}
	return clientauthn.Presented{Method: "private_key_jwt", Cred: clientauth.BasicCredentials{ID: id}}, true, nil
}

func (testKeyJWT) Verify(_ *clientauthn.Request, _ clientauthn.Presented, cl *clientauthn.Client) *oauth.Error {
	if cl == nil {
		return oauth.InvalidClient("unknown client")
	}
	return nil
}

// fapiClients are two FAPI 2.0 clients: bank (authenticated by
// testKeyJWT) and bank-secret, which has a secret.
func fapiClients(t testing.TB) []Client {
	return []Client{
		{ID: "bank", FAPI2: true, GrantTypes: []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials},
			Scopes: []string{"reports.read", "inventory.read"}, IdentityScopes: []string{"openid", "offline_access"},
			RedirectURIs: []string{bankRedirect}, AccessTokenLifetime: 5 * time.Minute, RefreshTokenLifetime: 24 * time.Hour,
			RefreshTokenReuseInterval: 30 * time.Second},
		{ID: "bank-secret", FAPI2: true, Secrets: []*clientauth.Secret{secret(t, "plain:bank-secret")},
			GrantTypes: []string{grantAuthorizationCode, grantClientCredentials}, Scopes: []string{"reports.read"},
			IdentityScopes: []string{"openid"}, RedirectURIs: []string{bankRedirect}, AccessTokenLifetime: 5 * time.Minute},
	}
}

// newFAPIEnv is newLoginEnv with the FAPI 2.0 clients, testKeyJWT among
// the client authentication methods, and an RS256 key that signs by
// default (so that the profile's restriction shows).
func newFAPIEnv(t *testing.T) *loginEnv {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	e := &loginEnv{t: t, ts: ts, keys: newFakeKeys(t), store: memstore.New(), clock: &testClock{t: testNow},
		issuer: "http://" + ts.Listener.Addr().String(), logs: &lockedBuffer{}}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jk, err := jws.NewKey("rs-1", key.RS256, rk)
	if err != nil {
		t.Fatal(err)
	}
	e.keys.set(func(f *fakeKeys) {
		f.keys[key.RS256] = jk
		f.order = append([]key.Algorithm{key.RS256}, f.order...)
	})
	clients, resources := loginClients(t)
	s, err := New(Config{Issuer: e.issuer, Keys: e.keys, Clients: append(clients, fapiClients(t)...), APIResources: resources,
		Grants: e.store, Users: loginUsers(t), Now: e.clock.Now, Logger: testLogger(e.logs)})
	if err != nil {
		t.Fatal(err)
	}
	s.secretMethods = append([]clientauthn.Method{testKeyJWT{}}, s.secretMethods...)
	s.clientMethods = append([]clientauthn.Method{testKeyJWT{}}, s.clientMethods...)
	e.s = s
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)
	return e
}

// asBank posts form to path authenticated as bank (testKeyJWT).
func (e *loginEnv) asBank(path string, form url.Values) page {
	req, _ := http.NewRequest("POST", e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formContentType)
	req.Header.Set("X-Test-Client", "bank")
	return e.do(nil, req)
}

func bankRequest(extra ...string) url.Values {
	q := webRequest(extra...)
	q.Set("client_id", "bank")
	q.Set("redirect_uri", bankRedirect)
	q.Set("scope", "openid offline_access reports.read")
	return q
}

// TestFAPI2Flow: what the server enforces for a FAPI 2.0 client: pushed
// requests only, PKCE even for a confidential client, response_type code,
// codes living 60 s, iss in the authorization response, tokens signed
// with PS256/ES256/EdDSA only, and a rotated refresh token working again
// within the reuse interval.
func TestFAPI2Flow(t *testing.T) {
	e := newFAPIEnv(t)
	b := e.browser()

	// A plain request is refused, at the authorization endpoint and
	// through the login page.
	for _, p := range []page{b.authorize(bankRequest()), b.get(e.issuer + PathLogin + "?" + bankRequest().Encode())} {
		if cb := e.callback(p, bankRedirect); cb.Get("error") != "invalid_request" || !strings.Contains(cb.Get("error_description"), "must push") {
			t.Fatalf("plain request: %v", cb)
		}
	}
	// PKCE is required of it, though it is confidential (web is not
	// required to use it); only response_type code.
	e.oauthErr(e.asBank(PathPAR, bankRequest("code_challenge", "", "code_challenge_method", "")), 400, "invalid_request")
	if p := e.par(webRequest("code_challenge", "", "code_challenge_method", ""), "web", webSecret); p.StatusCode != http.StatusCreated {
		t.Fatalf("web without PKCE: %d %s", p.StatusCode, p.body)
	}
	e.oauthErr(e.asBank(PathPAR, bankRequest("code_challenge_method", "plain")), 400, "invalid_request")
	e.oauthErr(e.asBank(PathPAR, bankRequest("response_type", "code id_token")), 400, "unsupported_response_type")

	p := e.asBank(PathPAR, bankRequest())
	if p.StatusCode != http.StatusCreated {
		t.Fatalf("PAR: %d %s", p.StatusCode, p.body)
	}
	var pr struct {
		RequestURI string `json:"request_uri"`
	}
	json.Unmarshal([]byte(p.body), &pr)
	lp := b.get(b.authorize(byReference("bank", pr.RequestURI)).Header.Get("Location"))
	cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), bankRedirect) // checks iss
	if cb.Get("code") == "" || cb.Get("state") != "pushed-state" {
		t.Fatalf("callback %v", cb)
	}
	g, err := e.store.Grant(t.Context(), grantstore.HashHandle(cb.Get("code")))
	if err != nil || g.Expires.Sub(g.Created) > 60*time.Second {
		t.Fatalf("code lives %s (%v), at most 60 s", g.Expires.Sub(g.Created), err)
	}

	tr := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {bankRedirect}, "code_verifier": {verifierForSPA}}))
	fapiAlgs := []string{"PS256", "ES256", "EdDSA"}
	for name, tok := range map[string]string{"access": tr.AccessToken, "ID": tr.IDToken} {
		if h, _ := e.jwtParts(tok); !slices.Contains(fapiAlgs, h.Algorithm) {
			t.Errorf("%s token signed with %s, want PS256, ES256 or EdDSA", name, h.Algorithm)
		}
	}
	// Another client's tokens are signed by default (RS256): the
	// restriction is the profile's.
	spa := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
	if h, _ := e.jwtParts(spa.IDToken); h.Algorithm != "RS256" {
		t.Fatalf("spa's ID token: %s, want the default RS256", h.Algorithm)
	}

	// Refresh: rotated; the rotated token is answered again within the
	// reuse interval (a lost response retried).
	r1 := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}))
	e.clock.Add(5 * time.Second)
	r2 := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}))
	if r1.RefreshToken == tr.RefreshToken || r2.RefreshToken != r1.RefreshToken {
		t.Fatalf("refresh: %q then %q, want the same successor", r1.RefreshToken, r2.RefreshToken)
	}
	if h, _ := e.jwtParts(r1.AccessToken); !slices.Contains(fapiAlgs, h.Algorithm) {
		t.Errorf("refreshed access token signed with %s", h.Algorithm)
	}

	// client_credentials: a resource that allows only RS256 cannot be
	// served to it.
	e.oauthErr(e.asBank(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"inventory.read"}}), 400, "invalid_target")
	cc := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}))
	if h, _ := e.jwtParts(cc.AccessToken); !slices.Contains(fapiAlgs, h.Algorithm) {
		t.Errorf("client_credentials token signed with %s", h.Algorithm)
	}
}

// TestFAPI2NoSecret: a FAPI 2.0 client that authenticates with a secret
// is refused at the token and PAR endpoints, though the secret is right.
func TestFAPI2NoSecret(t *testing.T) {
	e := newFAPIEnv(t)
	pushed := bankRequest()
	pushed.Set("client_id", "bank-secret")
	for name, p := range map[string]page{
		"token, basic": e.token(url.Values{"grant_type": {"client_credentials"}}, "bank-secret", "bank-secret"),
		"token, post":  e.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"bank-secret"}, "client_secret": {"bank-secret"}}),
		"PAR":          e.par(pushed, "bank-secret", "bank-secret"),
	} {
		e.oauthErr(p, http.StatusUnauthorized, "invalid_client")
		if !strings.Contains(p.body, "private_key_jwt") {
			t.Errorf("%s: %s, want the fix named", name, p.body)
		}
	}
}

// TestFAPI2ClientChecks: New refuses a FAPI 2.0 client whose ID tokens
// could only be signed with other algorithms, or whose rotated refresh
// tokens would stop working at once; with no restriction its ID tokens
// are restricted to the profile's algorithms.
func TestFAPI2ClientChecks(t *testing.T) {
	newWith := func(mod func(*Client)) error {
		cl := fapiClients(t)[0]
		mod(&cl)
		clients, resources := loginClients(t)
		_, err := New(Config{Issuer: "https://login.example.com", Keys: newFakeKeys(t), Clients: append(clients, cl),
			APIResources: resources, Grants: memstore.New()})
		return err
	}
	for name, tc := range map[string]struct {
		mod  func(*Client)
		want string
	}{
		"RS256 ID tokens": {func(c *Client) { c.AllowedIdentityTokenSigningAlgorithms = []key.Algorithm{key.RS256} }, "allowedIdentityTokenSigningAlgorithms"},
		"no reuse":        {func(c *Client) { c.RefreshTokenReuseInterval = 0 }, "refreshTokenReuseInterval"},
	} {
		if err := newWith(tc.mod); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "FAPI 2.0") {
			t.Errorf("%s: %v, want an error naming %s", name, err, tc.want)
		}
	}
	if err := newWith(func(c *Client) { c.AllowedIdentityTokenSigningAlgorithms = []key.Algorithm{key.RS256, key.ES256} }); err != nil {
		t.Errorf("RS256 and ES256: %v", err)
	}
}
