package server

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-id/signet/clientauth"
)

// rawBasic is what curl -u and authlib send: id:secret, not form-encoded.
func rawBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// A secret with '+' (openssl rand -base64 gives one half the time) works
// whether the client form-encodes Basic credentials (RFC 6749 2.3.1) or
// not; so does an API resource named by a URL at introspection.
func TestBasicCredentialsFromEveryClient(t *testing.T) {
	const plus = "k2+Vq/9x+Yz0Abc="
	const apiName = "https://api.example.com"
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "proxy", Secrets: []*clientauth.Secret{secret(t, clientauth.HashSHA256(plus))},
			GrantTypes: []string{grantClientCredentials}, Scopes: []string{"api.read"}, AccessTokenLifetime: 600e9})
		c.APIResources = append(c.APIResources, APIResource{Name: apiName, Scopes: []string{"api.read"},
			Secrets: []*clientauth.Secret{secret(t, "plain:"+plus)}})
	})
	token := func(authz string) page {
		req, _ := http.NewRequest("POST", e.issuer+PathToken, strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", authz)
		return e.do(nil, req)
	}
	var at string
	for name, authz := range map[string]string{
		"form-encoded (RFC 6749)": rawBasic(url.QueryEscape("proxy"), url.QueryEscape(plus)),
		"raw (curl -u, authlib)":  rawBasic("proxy", plus),
	} {
		at = e.tokens(token(authz)).AccessToken
		if at == "" {
			t.Fatalf("%s: no token", name)
		}
	}
	e.oauthErr(token(rawBasic("proxy", strings.ReplaceAll(plus, "+", " "))), http.StatusUnauthorized, "invalid_client")

	introspect := func(authz string) page {
		req, _ := http.NewRequest("POST", e.issuer+PathIntrospect, strings.NewReader(url.Values{"token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", authz)
		return e.do(nil, req)
	}
	for name, authz := range map[string]string{
		"form-encoded (RFC 6749)": rawBasic(url.QueryEscape(apiName), url.QueryEscape(plus)),
		"raw (colons and '+')":    rawBasic(apiName, plus),
	} {
		if p := introspect(authz); p.StatusCode != 200 || !strings.Contains(p.body, `"active":true`) {
			t.Errorf("%s: %d %s", name, p.StatusCode, p.body)
		}
	}
	if p := introspect(rawBasic(apiName, "wrong")); p.StatusCode != 401 {
		t.Errorf("wrong secret: %d %s", p.StatusCode, p.body)
	}
}
