package server

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/dpop"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
)

const bankRedirect = "https://bank.example.com/cb"

// fapiClients are two FAPI 2.0 clients: bank (private_key_jwt with the
// keys of k) and bank-secret, which has a secret.
func fapiClients(t testing.TB, k *keyedClient) []Client {
	return []Client{
		{ID: "bank", FAPI2: true, JWKS: k.keySet(t), GrantTypes: []string{grantAuthorizationCode, grantRefreshToken, grantClientCredentials},
			Scopes: []string{"reports.read", "inventory.read"}, IdentityScopes: []string{"openid", "offline_access"},
			RedirectURIs: []string{bankRedirect}, AccessTokenLifetime: 5 * time.Minute, RefreshTokenLifetime: 24 * time.Hour,
			RefreshTokenReuseInterval: 30 * time.Second},
		{ID: "bank-secret", FAPI2: true, Secrets: []*clientauth.Secret{secret(t, "plain:bank-secret")},
			GrantTypes: []string{grantAuthorizationCode, grantClientCredentials}, Scopes: []string{"reports.read"},
			IdentityScopes: []string{"openid"}, RedirectURIs: []string{bankRedirect}, AccessTokenLifetime: 5 * time.Minute},
	}
}

// fapiEnv is a login environment with the FAPI 2.0 clients, the key of
// bank, a DPoP key of bank's, and an RS256 key that signs by default (so
// that the profile's restriction shows).
type fapiEnv struct {
	*loginEnv
	bank *keyedClient
	dpop *dpop.Prover
}

func newFAPIEnv(t *testing.T) *fapiEnv {
	t.Helper()
	k := newKeyedClient(t, "bank")
	e := newLoginEnv(t, func(c *Config) { c.Clients = append(c.Clients, fapiClients(t, k)...) })
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
	return &fapiEnv{loginEnv: e, bank: k, dpop: e.newProver("ES256")}
}

// asBank posts form to path as bank: a client assertion for the issuer
// and, unless p is nil, a DPoP proof by p.
func (e *fapiEnv) asBank(path string, form url.Values, p *dpop.Prover) page {
	e.t.Helper()
	f := assertionForm(e.bank.assertion(e.t, e.issuer, e.clock.Now()))
	for k, v := range form {
		f[k] = v
	}
	req, _ := http.NewRequest("POST", e.issuer+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", formContentType)
	if p != nil {
		req.Header.Set("DPoP", e.proof(p, "POST", path, dpop.ProofOptions{}))
	}
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
// codes living 60 s, iss in the authorization response, DPoP-bound tokens
// (a proof at PAR binds the code), assertions for the issuer only, tokens
// signed with PS256/ES256/EdDSA only, and a rotated refresh token working
// again within the reuse interval.
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
	e.oauthErr(e.asBank(PathPAR, bankRequest("code_challenge", "", "code_challenge_method", ""), nil), 400, "invalid_request")
	if p := e.par(webRequest("code_challenge", "", "code_challenge_method", ""), "web", webSecret); p.StatusCode != http.StatusCreated {
		t.Fatalf("web without PKCE: %d %s", p.StatusCode, p.body)
	}
	e.oauthErr(e.asBank(PathPAR, bankRequest("code_challenge_method", "plain"), nil), 400, "invalid_request")
	e.oauthErr(e.asBank(PathPAR, bankRequest("response_type", "code id_token"), nil), 400, "unsupported_response_type")

	// The push carries a DPoP proof: the code is bound to its key (RFC
	// 9449 section 10.1).
	p := e.asBank(PathPAR, bankRequest(), e.dpop)
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

	redeem := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {bankRedirect}, "code_verifier": {verifierForSPA}}
	// DPoP is required of it, and the code wants the pushed proof's key.
	e.oauthErr(e.asBank(PathToken, redeem, nil), 400, "invalid_dpop_proof")
	e.oauthErr(e.asBank(PathToken, redeem, e.newProver("ES256")), 400, "invalid_grant")
	tr := e.tokens(e.asBank(PathToken, redeem, e.dpop))
	if tr.TokenType != "DPoP" {
		t.Errorf("token_type %q, want DPoP", tr.TokenType)
	}
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
	r1 := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, e.dpop))
	e.clock.Add(5 * time.Second)
	r2 := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, e.dpop))
	if r1.RefreshToken == tr.RefreshToken || r2.RefreshToken != r1.RefreshToken {
		t.Fatalf("refresh: %q then %q, want the same successor", r1.RefreshToken, r2.RefreshToken)
	}
	if h, _ := e.jwtParts(r1.AccessToken); !slices.Contains(fapiAlgs, h.Algorithm) {
		t.Errorf("refreshed access token signed with %s", h.Algorithm)
	}

	// Its assertions name the issuer alone as aud (RFC 7523 would allow
	// the token endpoint's URL).
	f := assertionForm(e.bank.assertion(t, e.issuer+PathToken, e.clock.Now()), "grant_type", "client_credentials", "scope", "reports.read")
	e.oauthErr(e.dpopToken(f, e.proof(e.dpop, "POST", PathToken, dpop.ProofOptions{})), http.StatusUnauthorized, "invalid_client")

	// client_credentials: a resource that allows only RS256 cannot be
	// served to it.
	e.oauthErr(e.asBank(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"inventory.read"}}, e.dpop), 400, "invalid_target")
	cc := e.tokens(e.asBank(PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}, e.dpop))
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
		cl := fapiClients(t, newKeyedClient(t, "bank"))[0]
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
