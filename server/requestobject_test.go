package server

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// requestObject signs claims as k's request object (typ
// oauth-authz-req+jwt), with iss, aud, exp and a fresh jti unless claims
// set them.
func (k *keyedClient) requestObject(t *testing.T, issuer string, now time.Time, claims map[string]any) string {
	t.Helper()
	m := map[string]any{"iss": k.id, "aud": issuer, "exp": now.Add(5 * time.Minute).Unix(), "jti": rand.Text()}
	for c, v := range claims {
		if v == nil {
			delete(m, c)
		} else {
			m[c] = v
		}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id + "-1"}},
		(&jose.SignerOptions{}).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// jarClaims are the parameters of an authorization request of jar.
func jarClaims(state string) map[string]any {
	_, ch := pkce(verifierForSPA)
	return map[string]any{"response_type": "code", "client_id": "jar", "redirect_uri": webRedirect, "scope": "openid",
		"state": state, "nonce": "n-jar", "code_challenge": ch, "code_challenge_method": "S256", "max_age": 3600}
}

// TestRequestObject: a request object (RFC 9101) signed by the client's
// private_key_jwt key is accepted at the authorization endpoint, whose
// other parameters are then ignored, and at PAR; it is used once; an
// object by another key, for another client or audience, is refused on a
// page (the redirect URI is not trusted).
func TestRequestObject(t *testing.T) {
	k := newKeyedClient(t, "jar")
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "jar", JWKS: k.keySet(t), GrantTypes: []string{grantAuthorizationCode},
			IdentityScopes: []string{"openid"}, RedirectURIs: []string{webRedirect}, AccessTokenLifetime: 5 * time.Minute})
	})
	obj := k.requestObject(t, e.issuer, e.clock.Now(), jarClaims("from-object"))
	b := e.browser()
	front := url.Values{"client_id": {"jar"}, "request": {obj}, "state": {"front-channel"}, "redirect_uri": {"https://evil.example/cb"}}
	lp := b.get(b.authorize(front).Header.Get("Location"))
	cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect)
	if cb.Get("code") == "" || cb.Get("state") != "from-object" {
		t.Fatalf("callback %v: want a code and the object's state", cb)
	}
	pageErrorCode(t, e.browser().authorize(front), "invalid_request_object") // used once

	other := newKeyedClient(t, "jar")
	for name, q := range map[string]url.Values{
		"another key":        {"client_id": {"jar"}, "request": {other.requestObject(t, e.issuer, e.clock.Now(), jarClaims("x"))}},
		"another audience":   {"client_id": {"jar"}, "request": {k.requestObject(t, e.issuer+PathAuthorize, e.clock.Now(), jarClaims("x"))}},
		"another client":     {"client_id": {"web"}, "request": {k.requestObject(t, e.issuer, e.clock.Now(), jarClaims("x"))}},
		"expired":            {"client_id": {"jar"}, "request": {k.requestObject(t, e.issuer, e.clock.Now(), map[string]any{"exp": e.clock.Now().Add(-time.Minute).Unix()})}},
		"no jti":             {"client_id": {"jar"}, "request": {k.requestObject(t, e.issuer, e.clock.Now(), map[string]any{"jti": nil})}},
		"and a request_uri":  {"client_id": {"jar"}, "request": {obj}, "request_uri": {RequestURIPrefix + "x"}},
		"no client_id":       {"request": {k.requestObject(t, e.issuer, e.clock.Now(), jarClaims("x"))}},
		"client without key": {"client_id": {"web"}, "request": {obj}},
	} {
		p := e.browser().authorize(q)
		if p.StatusCode != http.StatusBadRequest || p.Header.Get("Location") != "" {
			t.Errorf("%s: %d %s, want an error page", name, p.StatusCode, p.Header.Get("Location"))
		}
	}

	// At PAR, authenticated by an assertion: the object's parameters are
	// pushed.
	f := assertionForm(k.assertion(t, e.issuer, e.clock.Now()), "request", k.requestObject(t, e.issuer, e.clock.Now(), jarClaims("pushed-object")))
	p := e.par(f)
	if p.StatusCode != http.StatusCreated {
		t.Fatalf("PAR with a request object: %d %s", p.StatusCode, p.body)
	}
	var pr struct {
		RequestURI string `json:"request_uri"`
	}
	json.Unmarshal([]byte(p.body), &pr)
	if cb := e.callback(b.authorize(byReference("jar", pr.RequestURI)), webRedirect); cb.Get("code") == "" || cb.Get("state") != "pushed-object" {
		t.Fatalf("pushed object: %v", cb)
	}
	f = assertionForm(k.assertion(t, e.issuer, e.clock.Now()), "request", other.requestObject(t, e.issuer, e.clock.Now(), jarClaims("x")))
	if p := e.par(f); p.StatusCode != 400 || !strings.Contains(p.body, "invalid_request_object") {
		t.Fatalf("PAR with another key's object: %d %s", p.StatusCode, p.body)
	}
}
