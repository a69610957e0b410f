package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
)

// keyedClient is a private_key_jwt client of the tests: its key pair and
// its public JWK Set.
type keyedClient struct {
	id   string
	priv *ecdsa.PrivateKey
	jwks []byte
}

func newKeyedClient(t testing.TB, id string) *keyedClient {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: id + "-1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return &keyedClient{id: id, priv: priv, jwks: jwks}
}

func (k *keyedClient) keySet(t testing.TB) *privatekeyjwt.StaticKeySet {
	t.Helper()
	set, err := privatekeyjwt.ParseKeySet(k.jwks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// assertion signs a client assertion for aud at now, with a fresh jti
// unless edit sets one; edit changes the claims.
func (k *keyedClient) assertion(t testing.TB, aud string, now time.Time, edit ...func(*jwt.Claims)) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id + "-1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	c := jwt.Claims{Issuer: k.id, Subject: k.id, Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: rand.Text()}
	for _, e := range edit {
		e(&c)
	}
	out, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertionForm(a string, kv ...string) url.Values {
	f := url.Values{"client_assertion_type": {privatekeyjwt.AssertionType}, "client_assertion": {a}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// withKeyedClient adds the client "keyed" (private_key_jwt, inline keys,
// client_credentials for reports.read) to a login environment.
func withKeyedClient(t testing.TB, k *keyedClient) func(*Config) {
	return func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: k.id, JWKS: k.keySet(t), GrantTypes: []string{grantClientCredentials},
			Scopes: []string{"reports.read"}, AccessTokenLifetime: 5 * time.Minute})
	}
}

// TestPrivateKeyJWTEndToEnd: a private_key_jwt client gets a token at the
// token endpoint, an API resource introspects it, the client revokes it
// with another assertion; each assertion works once.
func TestPrivateKeyJWTEndToEnd(t *testing.T) {
	k := newKeyedClient(t, "keyed")
	e := newLoginEnv(t, withKeyedClient(t, k))
	cc := "client_credentials"

	a := k.assertion(t, e.issuer, testNow)
	p := e.token2(PathToken, assertionForm(a, "grant_type", cc))
	if p.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", p.StatusCode, p.body)
	}
	tok := decode[tokenResponse](t, []byte(p.body))
	parsed, err := jwt.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var cl claims
	if err := parsed.UnsafeClaimsWithoutVerification(&cl); err != nil {
		t.Fatal(err)
	}
	if cl.Sub != "keyed" || cl.ClientID != "keyed" || tok.Scope != "reports.read" {
		t.Fatalf("token claims %+v, scope %q", cl, tok.Scope)
	}

	// The same assertion again: refused, and the log says why.
	p = e.token2(PathToken, assertionForm(a, "grant_type", cc))
	if p.StatusCode != http.StatusUnauthorized || decode[errorResponse](t, []byte(p.body)).Error != "invalid_client" {
		t.Fatalf("replayed assertion: %d %s", p.StatusCode, p.body)
	}
	if !strings.Contains(e.logs.String(), "jti already used") {
		t.Fatalf("the replay is not logged:\n%s", e.logs.String())
	}

	// The token endpoint URL as aud (RFC 7523), and client_id beside the assertion.
	if p := e.token2(PathToken, assertionForm(k.assertion(t, e.issuer+PathToken, testNow), "grant_type", cc, "client_id", "keyed")); p.StatusCode != http.StatusOK {
		t.Fatalf("aud = token endpoint: %d %s", p.StatusCode, p.body)
	}

	active := func() bool {
		p := e.token2(PathIntrospect, url.Values{"token": {tok.AccessToken}}, "reports", reportsSecret)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("introspect: %d %s", p.StatusCode, p.body)
		}
		var v struct {
			Active   bool   `json:"active"`
			ClientID string `json:"client_id"`
		}
		if err := json.Unmarshal([]byte(p.body), &v); err != nil || (v.Active && v.ClientID != "keyed") {
			t.Fatalf("introspect: %v %s", err, p.body)
		}
		return v.Active
	}
	if !active() {
		t.Fatal("the token is not active")
	}
	ra := k.assertion(t, e.issuer+PathRevocation, testNow)
	if p := e.token2(PathRevocation, assertionForm(ra, "token", tok.AccessToken)); p.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", p.StatusCode, p.body)
	}
	if active() {
		t.Fatal("the revoked token is still active")
	}
	if p := e.token2(PathRevocation, assertionForm(ra, "token", tok.AccessToken)); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed revocation assertion: %d %s", p.StatusCode, p.body)
	}
}

// TestPrivateKeyJWTRefused: what the token endpoint refuses, and how.
func TestPrivateKeyJWTRefused(t *testing.T) {
	k := newKeyedClient(t, "keyed")
	e := newLoginEnv(t, withKeyedClient(t, k))
	other := newKeyedClient(t, "keyed") // same id, another key
	billing := &keyedClient{id: "billing", priv: k.priv}
	ghost := &keyedClient{id: "ghost", priv: k.priv}
	cc := []string{"grant_type", "client_credentials"}
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
		logged string // the reason in the log
	}{
		{"wrong aud", assertionForm(k.assertion(t, "https://elsewhere.example.com", testNow), cc...), nil, 401, "invalid_client", "aud not accepted"},
		{"expired", assertionForm(k.assertion(t, e.issuer, testNow.Add(-time.Hour)), cc...), nil, 401, "invalid_client", "assertion expired"},
		{"lifetime too long", assertionForm(k.assertion(t, e.issuer, testNow, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(testNow.Add(time.Hour)) }), cc...), nil, 401, "invalid_client", "lifetime too long"},
		{"no jti", assertionForm(k.assertion(t, e.issuer, testNow, func(c *jwt.Claims) { c.ID = "" }), cc...), nil, 401, "invalid_client", "jti missing"},
		{"sub differs", assertionForm(k.assertion(t, e.issuer, testNow, func(c *jwt.Claims) { c.Subject = "billing" }), cc...), nil, 401, "invalid_client", "sub is not the client_id"},
		{"another key", assertionForm(other.assertion(t, e.issuer, testNow), cc...), nil, 401, "invalid_client", "signature invalid"},
		{"unknown client", assertionForm(ghost.assertion(t, e.issuer, testNow), cc...), nil, 401, "invalid_client", "client assertion of an unknown client"},
		{"a secret client", assertionForm(billing.assertion(t, e.issuer, testNow), cc...), nil, 401, "invalid_client", "client assertion from a client that does not use private_key_jwt"},
		{"garbage", assertionForm("not-a-jwt", cc...), nil, 401, "invalid_client", "malformed assertion"},
		{"too large", assertionForm(strings.Repeat("a", 9000), cc...), nil, 401, "invalid_client", "assertion too large"},
		{"a secret from the keyed client", url.Values{"grant_type": {"client_credentials"}}, []string{"keyed", "guess"}, 401, "invalid_client", "a secret from a private_key_jwt client"},
		{"assertion and Basic", assertionForm(k.assertion(t, e.issuer, testNow), cc...), []string{"billing", "billing-secret"}, 400, "invalid_request", ""},
		{"assertion and client_secret", assertionForm(k.assertion(t, e.issuer, testNow), append(cc, "client_id", "keyed", "client_secret", "x")...), nil, 400, "invalid_request", ""},
		{"client_id differs", assertionForm(k.assertion(t, e.issuer, testNow), append(cc, "client_id", "billing")...), nil, 400, "invalid_request", ""},
		{"wrong assertion type", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}, "client_assertion": {k.assertion(t, e.issuer, testNow)}}, nil, 400, "invalid_request", ""},
		{"assertion type alone", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {privatekeyjwt.AssertionType}}, nil, 400, "invalid_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.token2(PathToken, tc.form, tc.basic...)
			if p.StatusCode != tc.status || decode[errorResponse](t, []byte(p.body)).Error != tc.code {
				t.Fatalf("%d %s; want %d %s", p.StatusCode, p.body, tc.status, tc.code)
			}
			if tc.logged != "" && !strings.Contains(e.logs.String(), tc.logged) {
				t.Fatalf("log lacks %q:\n%s", tc.logged, e.logs.String())
			}
		})
	}
	if strings.Contains(e.logs.String(), "eyJ") {
		t.Fatal("an assertion was logged")
	}
}

// TestPrivateKeyJWTConcurrentReplay: of concurrent requests with one
// assertion, exactly one gets a token.
func TestPrivateKeyJWTConcurrentReplay(t *testing.T) {
	k := newKeyedClient(t, "keyed")
	e := newLoginEnv(t, withKeyedClient(t, k))
	codes := concurrentAssertions(t, e, e.token2, k.assertion(t, e.issuer, testNow), 12)
	if codes[200] != 1 || codes[401] != 11 {
		t.Fatalf("12 concurrent uses of one assertion: %v; want one 200", codes)
	}
}

func concurrentAssertions(t *testing.T, e *loginEnv, call func(string, url.Values, ...string) page, a string, n int) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			p := call(PathToken, assertionForm(a, "grant_type", "client_credentials"))
			mu.Lock()
			codes[p.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

// TestPrivateKeyJWTRemoteJWKS: a client's jwksUri is fetched once for
// many requests (cached by its headers); an unknown kid is refused
// without a fetch within the minute, and a rotated key is found after it.
func TestPrivateKeyJWTRemoteJWKS(t *testing.T) {
	k := newKeyedClient(t, "remote")
	var hits atomic.Int64
	var body atomic.Pointer[[]byte]
	body.Store(&k.jwks)
	jwksServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write(*body.Load())
	}))
	t.Cleanup(jwksServer.Close)
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "remote", JWKSURI: jwksServer.URL, GrantTypes: []string{grantClientCredentials},
			Scopes: []string{"reports.read"}, AccessTokenLifetime: 5 * time.Minute})
	})
	for range 3 {
		if p := e.token2(PathToken, assertionForm(k.assertion(t, e.issuer, e.clock.Now()), "grant_type", "client_credentials")); p.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %s", p.StatusCode, p.body)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches for 3 requests; want 1", hits.Load())
	}
	// The client rotates to a new key under a new kid.
	rotated := newKeyedClient(t, "remote")
	rotated.jwks = []byte(strings.ReplaceAll(string(rotated.jwks), `"remote-1"`, `"remote-2"`))
	body.Store(&rotated.jwks)
	signWith2 := func() page {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: rotated.priv, KeyID: "remote-2"}}, nil)
		now := e.clock.Now()
		a, _ := jwt.Signed(s).Claims(jwt.Claims{Issuer: "remote", Subject: "remote", Audience: jwt.Audience{e.issuer},
			Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: rand.Text()}).Serialize()
		return e.token2(PathToken, assertionForm(a, "grant_type", "client_credentials"))
	}
	e.clock.Add(10 * time.Second)
	if p := signWith2(); p.StatusCode != http.StatusUnauthorized || hits.Load() != 1 {
		t.Fatalf("new kid within the refetch interval: %d, %d fetches", p.StatusCode, hits.Load())
	}
	e.clock.Add(time.Minute)
	if p := signWith2(); p.StatusCode != http.StatusOK || hits.Load() != 2 {
		t.Fatalf("new kid after the interval: %d %s, %d fetches", p.StatusCode, p.body, hits.Load())
	}
}

// TestPrivateKeyJWTCluster: two instances share a PostgreSQL store; an
// assertion used at one is refused at the other (a client's at the token
// endpoint, an API resource's at introspection), and of concurrent uses
// spread over both exactly one succeeds.
func TestPrivateKeyJWTCluster(t *testing.T) {
	k, rk := newKeyedClient(t, "keyed"), newKeyedClient(t, "audit")
	e := newClusterEnv(t, 2, nil, withKeyedResource(t, k, rk))
	issuer := e.issuer

	a := k.assertion(t, issuer, testNow)
	if p := e.token2(PathToken, assertionForm(a, "grant_type", "client_credentials")); p.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d %s", p.StatusCode, p.body)
	}
	if p := e.token2(PathToken, assertionForm(a, "grant_type", "client_credentials")); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replay at the other instance: %d %s", p.StatusCode, p.body)
	}
	codes := concurrentAssertions(t, e, e.token2, k.assertion(t, issuer, testNow), 10)
	if codes[200] != 1 || codes[401] != 9 {
		t.Fatalf("10 concurrent uses over 2 instances: %v; want one 200", codes)
	}
	// An API resource's assertion at introspection, likewise.
	ra := rk.assertion(t, issuer+PathIntrospect, testNow)
	if p := e.token2(PathIntrospect, assertionForm(ra, "token", "not-a-token")); p.StatusCode != http.StatusOK {
		t.Fatalf("introspection, first use: %d %s", p.StatusCode, p.body)
	}
	if p := e.token2(PathIntrospect, assertionForm(ra, "token", "not-a-token")); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("introspection, replay at the other instance: %d %s", p.StatusCode, p.body)
	}
}

// TestPrivateKeyJWTNarrowed: a client held to the FAPI 2.0 rules for its
// assertions accepts only the issuer as aud and only its algorithms.
func TestPrivateKeyJWTNarrowed(t *testing.T) {
	k := newKeyedClient(t, "bank")
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients,
			Client{ID: "bank", JWKS: k.keySet(t), GrantTypes: []string{grantClientCredentials}, Scopes: []string{"reports.read"},
				AccessTokenLifetime: time.Minute, AssertionAlgorithms: []key.Algorithm{key.PS256, key.ES256, key.EdDSA}, AssertionIssuerAudience: true},
			Client{ID: "psonly", JWKS: k.keySet(t), GrantTypes: []string{grantClientCredentials}, Scopes: []string{"reports.read"},
				AccessTokenLifetime: time.Minute, AssertionAlgorithms: []key.Algorithm{key.PS256}})
	})
	cc := []string{"grant_type", "client_credentials"}
	if p := e.token2(PathToken, assertionForm(k.assertion(t, e.issuer, testNow), cc...)); p.StatusCode != http.StatusOK {
		t.Fatalf("aud = issuer: %d %s", p.StatusCode, p.body)
	}
	if p := e.token2(PathToken, assertionForm(k.assertion(t, e.issuer+PathToken, testNow), cc...)); p.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(e.logs.String(), "this client must use the issuer identifier") {
		t.Fatalf("aud = token endpoint for an issuer-only client: %d %s", p.StatusCode, p.body)
	}
	ps := &keyedClient{id: "psonly", priv: k.priv}
	if p := e.token2(PathToken, assertionForm(ps.assertion(t, e.issuer, testNow), cc...)); p.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(e.logs.String(), `algorithm not allowed: alg ES256; client \"psonly\" allows PS256`) {
		t.Fatalf("ES256 for a PS256-only client: %d %s\n%s", p.StatusCode, p.body, e.logs.String())
	}
}

// BenchmarkTokenPrivateKeyJWT: one client_credentials token (ES256) per
// op through the handler, authenticated by a sha256: secret and by a
// client assertion (ES256, its jti remembered in a memory grant store):
// the difference is what private_key_jwt costs per token.
func BenchmarkTokenPrivateKeyJWT(b *testing.B) {
	k := newKeyedClient(b, "keyed")
	keys := newFakeKeys(b)
	keys.order = []key.Algorithm{key.ES256}
	clients, resources := testClients(b)
	cfg := Config{Issuer: "https://login.example.com", Keys: keys, Clients: clients, APIResources: resources,
		Grants: memstore.New(), Now: func() time.Time { return testNow }}
	withKeyedClient(b, k)(&cfg)
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	serve := func(b *testing.B, body string, basic bool) {
		r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			r.Header.Set("Authorization", "Basic YmlsbGluZzpiaWxsaW5nLXNlY3JldA==") // billing:billing-secret (sha256:)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.Run("secret", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, "grant_type=client_credentials&scope=reports.read", true)
		}
	})
	b.Run("private_key_jwt", func(b *testing.B) {
		bodies := make([]string, b.N)
		for i := range bodies {
			bodies[i] = assertionForm(k.assertion(b, "https://login.example.com", testNow), "grant_type", "client_credentials", "scope", "reports.read").Encode()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			serve(b, bodies[i], false)
		}
	})
}
