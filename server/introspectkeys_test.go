package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/clientauth"
)

// withKeyedResource adds the API resource audit (private_key_jwt at the
// introspection endpoint, inline keys, scope audit.read) and lets the
// client keyed ask for tokens for it.
func withKeyedResource(t testing.TB, k, rk *keyedClient) func(*Config) {
	keyed := withKeyedClient(t, k)
	return func(c *Config) {
		c.APIResources = append(c.APIResources, APIResource{Name: rk.id, Scopes: []string{"audit.read"}, JWKS: rk.keySet(t)})
		keyed(c)
		c.Clients[len(c.Clients)-1].Scopes = append(c.Clients[len(c.Clients)-1].Scopes, "audit.read")
	}
}

// TestPrivateKeyJWTIntrospection: an API resource with keys introspects
// with a client assertion (iss = sub = its name), accepted once, for the
// introspection endpoint or the issuer only; its secrets, another's
// assertions and a client's are refused, and logged without the
// assertion.
func TestPrivateKeyJWTIntrospection(t *testing.T) {
	k, rk := newKeyedClient(t, "keyed"), newKeyedClient(t, "audit")
	e := newLoginEnv(t, withKeyedResource(t, k, rk))
	p := e.token2(PathToken, assertionForm(k.assertion(t, e.issuer, testNow), "grant_type", "client_credentials", "scope", "audit.read"))
	if p.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", p.StatusCode, p.body)
	}
	tok := decode[tokenResponse](t, []byte(p.body)).AccessToken
	introspect := func(form url.Values, basic ...string) page {
		form.Set("token", tok)
		return e.token2(PathIntrospect, form, basic...)
	}
	active := func(p page) {
		t.Helper()
		var v struct {
			Active   bool   `json:"active"`
			Scope    string `json:"scope"`
			ClientID string `json:"client_id"`
		}
		if p.StatusCode != http.StatusOK || json.Unmarshal([]byte(p.body), &v) != nil || !v.Active || v.Scope != "audit.read" || v.ClientID != "keyed" {
			t.Fatalf("introspect: %d %s", p.StatusCode, p.body)
		}
	}
	a := rk.assertion(t, e.issuer+PathIntrospect, testNow)
	active(introspect(assertionForm(a)))
	active(introspect(assertionForm(rk.assertion(t, e.issuer, testNow), "client_id", "audit"))) // the issuer as aud, client_id beside

	reports := &keyedClient{id: "reports", priv: rk.priv} // a resource with secrets
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
		logged string
	}{
		{"replayed", assertionForm(a), nil, 401, "invalid_client", "jti already used"},
		{"wrong aud", assertionForm(rk.assertion(t, "https://elsewhere.example.com", testNow)), nil, 401, "invalid_client", "aud not accepted"},
		{"token endpoint of another server", assertionForm(rk.assertion(t, "https://elsewhere.example.com"+PathIntrospect, testNow)), nil, 401, "invalid_client", "aud not accepted"},
		{"sub differs", assertionForm(rk.assertion(t, e.issuer+PathIntrospect, testNow, func(c *jwt.Claims) { c.Subject = "keyed" })), nil, 401, "invalid_client", "sub is not the client_id"},
		{"a client's assertion", assertionForm(k.assertion(t, e.issuer+PathIntrospect, testNow)), nil, 401, "invalid_client", "client assertion of an unknown client"},
		{"a secret resource's name", assertionForm(reports.assertion(t, e.issuer+PathIntrospect, testNow)), nil, 401, "invalid_client", "client assertion from a client that does not use private_key_jwt"},
		{"a secret from the keyed resource", url.Values{}, []string{"audit", "guess"}, 401, "invalid_client", "a secret from a private_key_jwt API resource"},
		{"a secret in the body from the keyed resource", url.Values{"client_id": {"audit"}, "client_secret": {"guess"}}, nil, 401, "invalid_client", "a secret from a private_key_jwt API resource"},
		{"assertion and Basic", assertionForm(rk.assertion(t, e.issuer+PathIntrospect, testNow)), []string{"reports", reportsSecret}, 400, "invalid_request", ""},
		{"client_id differs", assertionForm(rk.assertion(t, e.issuer+PathIntrospect, testNow), "client_id", "reports"), nil, 400, "invalid_request", ""},
		{"assertion twice", url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a, a}}, nil, 400, "invalid_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.logs.String())
			p := introspect(tc.form, tc.basic...)
			if p.StatusCode != tc.status || decode[errorResponse](t, []byte(p.body)).Error != tc.code {
				t.Fatalf("%d %s; want %d %s", p.StatusCode, p.body, tc.status, tc.code)
			}
			logs := e.logs.String()[before:]
			if tc.logged != "" && (!strings.Contains(logs, tc.logged) || !strings.Contains(logs, "API resource authentication failed")) {
				t.Fatalf("log lacks %q as a failed API resource authentication:\n%s", tc.logged, logs)
			}
		})
	}
	if strings.Contains(e.logs.String(), "eyJ") {
		t.Fatal("an assertion was logged")
	}
	// The secret resource still introspects with its secret (not in the
	// token's audience: inactive, but authenticated).
	if p := introspect(url.Values{}, "reports", reportsSecret); p.StatusCode != http.StatusOK {
		t.Fatalf("reports with its secret: %d %s", p.StatusCode, p.body)
	}
}

// TestPrivateKeyJWTIntrospectionDiscovery: discovery lists private_key_jwt
// and its algorithms for the introspection endpoint.
func TestPrivateKeyJWTIntrospectionDiscovery(t *testing.T) {
	e := newLoginEnv(t)
	p := e.browser().get(e.issuer + PathDiscovery)
	var doc struct {
		Methods []string `json:"introspection_endpoint_auth_methods_supported"`
		Algs    []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	}
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(doc.Methods, "private_key_jwt") || !slices.Contains(doc.Algs, "ES256") || !slices.Equal(doc.Algs, e.s.assertionAlgorithms()) {
		t.Fatalf("introspection auth methods %v, algorithms %v", doc.Methods, doc.Algs)
	}
}

// TestAPIResourceKeysAndSecrets: a resource with keys and secrets, or
// with inline keys and a jwksUri, is refused.
func TestAPIResourceKeysAndSecrets(t *testing.T) {
	rk := newKeyedClient(t, "audit")
	sec, err := clientauth.ParseSecret("plain:audit-secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		res  APIResource
		want string
	}{
		{APIResource{Name: "audit", Scopes: []string{"audit.read"}, JWKS: rk.keySet(t), Secrets: []*clientauth.Secret{sec}}, `API resource "audit": a private_key_jwt resource (JWKS or JWKSURI) cannot have secrets`},
		{APIResource{Name: "audit", Scopes: []string{"audit.read"}, JWKS: rk.keySet(t), JWKSURI: "https://audit.example.com/jwks"}, `API resource "audit": JWKS and JWKSURI are both set`},
	} {
		_, err := New(Config{Issuer: "http://127.0.0.1:1", Keys: newFakeKeys(t), APIResources: []APIResource{tc.res}, Now: func() time.Time { return testNow }})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("got %v, want %q", err, tc.want)
		}
	}
}

// TestPrivateKeyJWTIntrospectionConcurrentReplay: of concurrent
// introspections with one resource assertion, exactly one is answered.
func TestPrivateKeyJWTIntrospectionConcurrentReplay(t *testing.T) {
	k, rk := newKeyedClient(t, "keyed"), newKeyedClient(t, "audit")
	e := newLoginEnv(t, withKeyedResource(t, k, rk))
	// concurrentAssertions sends a token request's form; introspection
	// ignores grant_type.
	introspect := func(_ string, form url.Values, basic ...string) page {
		form.Set("token", "not-a-token")
		return e.token2(PathIntrospect, form, basic...)
	}
	codes := concurrentAssertions(t, e, introspect, rk.assertion(t, e.issuer+PathIntrospect, testNow), 12)
	if codes[200] != 1 || codes[401] != 11 {
		t.Fatalf("12 concurrent uses of one assertion: %v; want one 200", codes)
	}
}

// TestDiscoveryContentLength: the discovery document, over 2 KiB with the
// login flows, is sent with its Content-Length, not chunked (a client
// reading raw HTTP, as go run ./bench does, gets the document itself).
func TestDiscoveryContentLength(t *testing.T) {
	e := newLoginEnv(t)
	resp, err := http.Get(e.issuer + PathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength <= 2048 || len(resp.TransferEncoding) != 0 {
		t.Fatalf("Content-Length %d, Transfer-Encoding %v; want the length of a document over 2 KiB, not chunked", resp.ContentLength, resp.TransferEncoding)
	}
}
