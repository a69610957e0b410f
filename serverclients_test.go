package signet

import (
	"slices"
	"strings"
	"testing"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/key"
)

// TestServerClientsPrivateKeyJWT: a private_key_jwt client reaches the
// server with its keys; a fapi2 one also with the profile's assertion
// algorithms and issuer-only aud.
func TestServerClientsPrivateKeyJWT(t *testing.T) {
	jwk := `{"kty":"EC","kid":"k1","crv":"P-256","alg":"ES256","x":"ITnF08N57TtYc6wn-_6bME8Ri0OdfTuhxOFN3mIBmvA","y":"JuLlhsUwC8pNMemuAO644QwgQAquC7Jnj0nbKCuQrog"}`
	doc := `issuer: https://login.example.com
storage: { driver: memory }
keyManagement: { signingAlgorithms: [ES256] }
apiResources: [ { name: api, scopes: [api.read] } ]
clients:
  - clientId: plain
    tokenEndpointAuthMethod: private_key_jwt
    jwks: { keys: [ ` + jwk + ` ] }
    allowedGrantTypes: [client_credentials]
  - clientId: remote
    tokenEndpointAuthMethod: private_key_jwt
    jwksUri: https://remote.example.com/jwks
    allowedGrantTypes: [client_credentials]
  - clientId: bank
    securityProfile: fapi2
    tokenEndpointAuthMethod: private_key_jwt
    jwks: { keys: [ ` + jwk + ` ] }
    allowedGrantTypes: [client_credentials]
`
	cfg, err := config.Parse([]byte(doc), config.ParseOptions{Source: "signet.yaml", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	clients, _ := ServerClients(cfg)
	plain, remote, bank := clients[0], clients[1], clients[2]
	if plain.JWKS == nil || plain.JWKSURI != "" || plain.AssertionIssuerAudience || plain.AssertionAlgorithms != nil {
		t.Errorf("plain: %+v", plain)
	}
	if remote.JWKS != nil || !strings.HasPrefix(remote.JWKSURI, "https://remote.example.com") {
		t.Errorf("remote: %+v", remote)
	}
	if bank.JWKS == nil || !bank.AssertionIssuerAudience || !slices.Equal(bank.AssertionAlgorithms, []key.Algorithm{key.PS256, key.ES256, key.EdDSA}) {
		t.Errorf("bank: %+v", bank)
	}
}

// TestServerClientsResourceKeys: an API resource's jwks and jwksUri reach
// the server.
func TestServerClientsResourceKeys(t *testing.T) {
	jwk := `{"kty":"EC","kid":"k1","crv":"P-256","alg":"ES256","x":"ITnF08N57TtYc6wn-_6bME8Ri0OdfTuhxOFN3mIBmvA","y":"JuLlhsUwC8pNMemuAO644QwgQAquC7Jnj0nbKCuQrog"}`
	doc := `issuer: https://login.example.com
storage: { driver: memory }
keyManagement: { signingAlgorithms: [ES256] }
apiResources:
  - { name: inline, scopes: [inline.read], jwks: { keys: [ ` + jwk + ` ] } }
  - { name: remote, scopes: [remote.read], jwksUri: https://remote.example.com/jwks }
clients:
  - { clientId: c, secrets: [plain:x], allowedGrantTypes: [client_credentials] }
`
	cfg, err := config.Parse([]byte(doc), config.ParseOptions{Source: "signet.yaml", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	_, resources := ServerClients(cfg)
	if r := resources[0]; r.JWKS == nil || r.JWKS.Len() != 1 || r.JWKSURI != "" || len(r.Secrets) != 0 {
		t.Errorf("inline: %+v", r)
	}
	if r := resources[1]; r.JWKS != nil || r.JWKSURI != "https://remote.example.com/jwks" {
		t.Errorf("remote: %+v", r)
	}
}
