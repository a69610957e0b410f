package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestServePrivateKeyJWT: a client declared with tokenEndpointAuthMethod
// private_key_jwt and inline jwks gets a token from `signet serve` with a
// client assertion, once per assertion.
func TestServePrivateKeyJWT(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: "billing-2026", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: memory }
keyManagement: { signingAlgorithms: [ES256] }
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: billing
    tokenEndpointAuthMethod: private_key_jwt
    jwks: { keys: [ `+string(pub)+` ] }
    allowedGrantTypes: [client_credentials]
    allowedScopes: [orders.read]
`)
	in := startServe(t, serveOptions{configPath: cfg}, nil)

	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: "billing-2026"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	assertion, err := jwt.Signed(s).Claims(jwt.Claims{Issuer: "billing", Subject: "billing", Audience: jwt.Audience{"https://signet.test"},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: rand.Text()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {assertion},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		resp, err := http.Post(in.base+"/connect/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d; want %d\n%s", i+1, resp.StatusCode, want, in.logs.String())
		}
	}
	if !strings.Contains(in.logs.String(), "jti already used") {
		t.Fatalf("the replay is not logged:\n%s", in.logs.String())
	}
}
