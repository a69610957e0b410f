package config

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// A P-256 key pair for tests: the public JWK, and the same with "d".
const (
	testPublicJWK  = `{"use":"sig","kty":"EC","kid":"billing-2026","crv":"P-256","alg":"ES256","x":"ITnF08N57TtYc6wn-_6bME8Ri0OdfTuhxOFN3mIBmvA","y":"JuLlhsUwC8pNMemuAO644QwgQAquC7Jnj0nbKCuQrog"}`
	testPrivateJWK = `{"use":"sig","kty":"EC","kid":"billing-2026","crv":"P-256","alg":"ES256","x":"ITnF08N57TtYc6wn-_6bME8Ri0OdfTuhxOFN3mIBmvA","y":"JuLlhsUwC8pNMemuAO644QwgQAquC7Jnj0nbKCuQrog","d":"SMmGYSOgI9wjNFcvUZvt3l00vUZ2UESZB981XnUpgoo"}`
)

func clientAuthDoc(body string) string {
	return minimal + "apiResources: [ { name: orders, scopes: [orders.read] } ]\nclients:\n  - clientId: billing\n    allowedGrantTypes: [client_credentials]\n" + body
}

func TestClientAuthMethods(t *testing.T) {
	c := mustParse(t, clientAuthDoc("    tokenEndpointAuthMethod: private_key_jwt\n    jwks: {\"keys\": ["+testPublicJWK+"]}\n"), nil)
	cl := c.Clients[0]
	if cl.TokenEndpointAuthMethod != AuthMethodPrivateKeyJWT || cl.JWKS == nil || cl.JWKS.Len() != 1 || cl.JWKSURI != "" || cl.Public || len(cl.Secrets) != 0 {
		t.Fatalf("inline jwks: %+v", cl)
	}
	// The block form of YAML is the same set.
	block := `    tokenEndpointAuthMethod: private_key_jwt
    jwks:
      keys:
        - kty: EC
          kid: billing-2026
          crv: P-256
          alg: ES256
          x: ITnF08N57TtYc6wn-_6bME8Ri0OdfTuhxOFN3mIBmvA
          y: JuLlhsUwC8pNMemuAO644QwgQAquC7Jnj0nbKCuQrog
`
	if c := mustParse(t, clientAuthDoc(block), nil); c.Clients[0].JWKS.Len() != 1 {
		t.Fatal("block jwks")
	}
	c = mustParse(t, clientAuthDoc("    tokenEndpointAuthMethod: private_key_jwt\n    jwksUri: https://billing.example.com/jwks.json\n"), nil)
	if cl := c.Clients[0]; cl.JWKSURI != "https://billing.example.com/jwks.json" || cl.JWKS != nil {
		t.Fatalf("jwksUri: %+v", cl)
	}
	if c := mustParse(t, clientAuthDoc("    tokenEndpointAuthMethod: private_key_jwt\n    jwksUri: http://127.0.0.1:8081/jwks\n"), nil); c.Clients[0].JWKSURI == "" {
		t.Fatal("loopback http jwksUri refused")
	}
	for _, m := range []string{AuthMethodSecretBasic, AuthMethodSecretPost, ""} {
		body := "    secrets: [plain:x]\n"
		if m != "" {
			body += "    tokenEndpointAuthMethod: " + m + "\n"
		}
		c := mustParse(t, clientAuthDoc(body), nil)
		if cl := c.Clients[0]; cl.TokenEndpointAuthMethod != m || len(cl.Secrets) != 1 || cl.Public {
			t.Fatalf("%q: %+v", m, cl)
		}
	}
}

func TestClientAuthErrors(t *testing.T) {
	pkj := "    tokenEndpointAuthMethod: private_key_jwt\n"
	jwks := func(keys ...string) string { return "    jwks: {\"keys\": [" + strings.Join(keys, ",") + "]}\n" }
	for _, tc := range []struct{ name, body, want string }{
		{"no keys", pkj, "clients[0]: (billing) tokenEndpointAuthMethod private_key_jwt needs the client's public keys: jwks: { keys: [...] } inline, or jwksUri"},
		{"both", pkj + jwks(testPublicJWK) + "    jwksUri: https://billing.example.com/jwks\n", "clients[0].jwksUri: (billing) give the client's keys once: jwks inline or jwksUri, not both"},
		{"secrets too", pkj + jwks(testPublicJWK) + "    secrets: [plain:x]\n", "clients[0].secrets: (billing) authenticates with private_key_jwt and cannot have secrets too"},
		{"private key", pkj + jwks(testPrivateJWK), `clients[0].jwks: (billing) privatekeyjwt: invalid JWK Set: key "billing-2026" holds private key material; publish only the public key`},
		{"duplicate kid", pkj + jwks(testPublicJWK, testPublicJWK), `clients[0].jwks: (billing) privatekeyjwt: invalid JWK Set: kid "billing-2026" is used twice`},
		{"alg not allowed", pkj + jwks(strings.Replace(testPublicJWK, `"ES256"`, `"ES384"`, 1)), `key "billing-2026" has alg "ES384"; allowed: RS256, PS256, ES256, EdDSA`},
		{"alg of another key type", pkj + jwks(strings.Replace(testPublicJWK, `"ES256"`, `"PS256"`, 1)), `key "billing-2026": jwk: key does not fit algorithm: PS256 needs an RSA key`},
		{"empty jwks", pkj + "    jwks: {}\n", `clients[0].jwks: (billing) privatekeyjwt: invalid JWK Set: no "keys" array`},
		{"http jwksUri", pkj + "    jwksUri: http://billing.example.com/jwks\n", `clients[0].jwksUri: (billing) privatekeyjwt: jwksUri must be https: "http://billing.example.com/jwks"`},
		{"jwks without the method", "    secrets: [plain:x]\n" + jwks(testPublicJWK), "clients[0].jwks: (billing) is used only with tokenEndpointAuthMethod: private_key_jwt"},
		{"jwksUri without the method", "    secrets: [plain:x]\n    jwksUri: https://billing.example.com/jwks\n", "clients[0].jwksUri: (billing) is used only with tokenEndpointAuthMethod: private_key_jwt"},
		{"basic without secrets", "    tokenEndpointAuthMethod: client_secret_basic\n", "(billing) has no secrets"},
		{"client_secret_jwt", "    tokenEndpointAuthMethod: client_secret_jwt\n    secrets: [plain:x]\n", `"client_secret_jwt" is not supported: write client_secret_basic or client_secret_post`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, clientAuthDoc(tc.body), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "SMmGYSOg") {
				t.Fatal("the error repeats the private key")
			}
		})
	}
}

// TestFAPI2PrivateKeyJWT: a fapi2 client authenticated by private_key_jwt
// conforms; one whose keys can sign only RS256 assertions is told why.
func TestFAPI2PrivateKeyJWT(t *testing.T) {
	pkj := "    tokenEndpointAuthMethod: private_key_jwt\n    jwks: {\"keys\": [" + testPublicJWK + "]}\n"
	c := mustParse(t, fapiDoc("ES256, RS256", pkj, fapiScopes), nil)
	cl := c.Clients[1]
	if !cl.FAPI2() || cl.JWKS == nil || cl.TokenEndpointAuthMethod != AuthMethodPrivateKeyJWT {
		t.Fatalf("fapi2 private_key_jwt client: %+v", cl)
	}
	_, err := parse(t, fapiDoc("ES256, RS256", "    tokenEndpointAuthMethod: private_key_jwt\n    jwks: {\"keys\": ["+rsaPublicJWK(t)+"]}\n", fapiScopes), nil)
	want := `clients[1].jwks: (bank) FAPI 2.0 allows only PS256, ES256, EdDSA for client assertions: privatekeyjwt: invalid JWK Set: key "rsa-1" has alg "RS256"; allowed: PS256, ES256, EdDSA`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, want)
	}
}

func rsaPublicJWK(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: k.Public(), KeyID: "rsa-1", Algorithm: "RS256"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func resourceAuthDoc(body string) string {
	return minimal + "clients:\n  - clientId: billing\n    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n    allowedScopes: [orders.read]\napiResources:\n  - name: orders\n    scopes: [orders.read]\n" + body
}

// TestAPIResourceKeys: apiResources[].jwks and jwksUri are read as a
// client's, and make the resource a private_key_jwt one.
func TestAPIResourceKeys(t *testing.T) {
	c := mustParse(t, resourceAuthDoc("    jwks: {\"keys\": ["+testPublicJWK+"]}\n"), nil)
	if r := c.APIResources[0]; r.JWKS == nil || r.JWKS.Len() != 1 || r.JWKSURI != "" || len(r.Secrets) != 0 {
		t.Fatalf("inline jwks: %+v", r)
	}
	c = mustParse(t, resourceAuthDoc("    jwksUri: https://orders.example.com/jwks.json\n"), nil)
	if r := c.APIResources[0]; r.JWKSURI != "https://orders.example.com/jwks.json" || r.JWKS != nil {
		t.Fatalf("jwksUri: %+v", r)
	}
	c = mustParse(t, resourceAuthDoc("    secrets: [plain:y]\n"), nil)
	if r := c.APIResources[0]; r.JWKS != nil || r.JWKSURI != "" || len(r.Secrets) != 1 {
		t.Fatalf("secrets: %+v", r)
	}
}

func TestAPIResourceKeyErrors(t *testing.T) {
	jwks := func(keys ...string) string { return "    jwks: {\"keys\": [" + strings.Join(keys, ",") + "]}\n" }
	for _, tc := range []struct{ name, body, want string }{
		{"secrets too", jwks(testPublicJWK) + "    secrets: [plain:y]\n", "apiResources[0].secrets: (orders) authenticates at the introspection endpoint with private_key_jwt (jwks or jwksUri) and cannot have secrets too"},
		{"jwksUri and secrets", "    jwksUri: https://orders.example.com/jwks\n    secrets: [plain:y]\n", "apiResources[0].secrets: (orders) authenticates at the introspection endpoint with private_key_jwt"},
		{"both", jwks(testPublicJWK) + "    jwksUri: https://orders.example.com/jwks\n", "apiResources[0].jwksUri: (orders) give the API resource's keys once: jwks inline or jwksUri, not both"},
		{"private key", jwks(testPrivateJWK), `apiResources[0].jwks: (orders) privatekeyjwt: invalid JWK Set: key "billing-2026" holds private key material; publish only the public key`},
		{"duplicate kid", jwks(testPublicJWK, testPublicJWK), `apiResources[0].jwks: (orders) privatekeyjwt: invalid JWK Set: kid "billing-2026" is used twice`},
		{"alg not allowed", jwks(strings.Replace(testPublicJWK, `"ES256"`, `"ES384"`, 1)), `key "billing-2026" has alg "ES384"; allowed: RS256, PS256, ES256, EdDSA`},
		{"empty jwks", "    jwks: {}\n", `apiResources[0].jwks: (orders) privatekeyjwt: invalid JWK Set: no "keys" array`},
		{"http jwksUri", "    jwksUri: http://orders.example.com/jwks\n", `apiResources[0].jwksUri: (orders) privatekeyjwt: jwksUri must be https: "http://orders.example.com/jwks"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, resourceAuthDoc(tc.body), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "SMmGYSOg") {
				t.Fatal("the error repeats the private key")
			}
		})
	}
}
