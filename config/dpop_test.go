package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const dpopClients = `
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: bound
    secrets: [ "plain:bound-secret-0123456789abcdef" ]
    allowedGrantTypes: [client_credentials]
    requireDPoP: true
  - clientId: free
    secrets: [ "plain:free-secret-0123456789abcdef" ]
    allowedGrantTypes: [client_credentials]
`

func TestDPoPDefaults(t *testing.T) {
	c := mustParse(t, minimal+dpopClients, nil)
	if c.DPoP.RequireNonce || c.DPoP.ProofWindow != time.Minute ||
		!slices.Equal(c.DPoP.AllowedSigningAlgorithms, []string{"ES256", "PS256", "RS256", "EdDSA"}) {
		t.Errorf("defaults %+v", c.DPoP)
	}
	if !c.Clients[0].RequireDPoP || c.Clients[1].RequireDPoP {
		t.Errorf("requireDPoP: %v %v", c.Clients[0].RequireDPoP, c.Clients[1].RequireDPoP)
	}
}

func TestDPoPParse(t *testing.T) {
	c := mustParse(t, minimal+`
dpop:
  requireNonce: true
  allowedSigningAlgorithms: [ES256, EdDSA]
  proofWindow: 30s
`, nil)
	want := DPoP{RequireNonce: true, AllowedSigningAlgorithms: []string{"ES256", "EdDSA"}, ProofWindow: 30 * time.Second}
	if c.DPoP.RequireNonce != want.RequireNonce || c.DPoP.ProofWindow != want.ProofWindow || !slices.Equal(c.DPoP.AllowedSigningAlgorithms, want.AllowedSigningAlgorithms) {
		t.Errorf("dpop %+v, want %+v", c.DPoP, want)
	}
}

func TestDPoPErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"dpop: { allowedSigningAlgorithms: [HS256] }", `dpop.allowedSigningAlgorithms[0]: "HS256" is not a DPoP proof algorithm`},
		{"dpop: { allowedSigningAlgorithms: [ES256, none] }", `dpop.allowedSigningAlgorithms[1]: "none" is not a DPoP proof algorithm`},
		{"dpop: { allowedSigningAlgorithms: [] }", "dpop.allowedSigningAlgorithms: is empty"},
		{"dpop: { proofWindow: 0s }", "dpop.proofWindow: must be from 1s to 10m0s"},
		{"dpop: { proofWindow: 1h }", "dpop.proofWindow: must be from 1s to 10m0s"},
		{"dpop: { requireNonces: true }", `unknown key "requireNonces"`},
		{"clients: [ { clientId: a, secrets: [ \"plain:a\" ], allowedGrantTypes: [client_credentials], requireDpop: true } ]", `unknown key "requireDpop"`},
	} {
		_, err := parse(t, minimal+tc.doc+"\n", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// TestDPoPNonceNeedsASharedSecret: with PostgreSQL (a cluster), nonces
// need the protection secret their key is derived from.
func TestDPoPNonceNeedsASharedSecret(t *testing.T) {
	const pg = "issuer: https://a.example\nstorage: { driver: postgres, dsn: 'postgres://x/y' }\n"
	_, err := parse(t, pg+"keyManagement: { protection: { enabled: false } }\ndpop: { requireNonce: true }\n", nil)
	if err == nil || !strings.Contains(err.Error(), "dpop.requireNonce: needs keyManagement.protection.secrets") {
		t.Fatalf("postgres without secrets: %v", err)
	}
	if _, err := parse(t, pg+"keyManagement: { protection: { secrets: [abcdefghijklmnopq] } }\ndpop: { requireNonce: true }\n", nil); err != nil {
		t.Fatalf("postgres with a secret: %v", err)
	}
	if _, err := parse(t, pg+"keyManagement: { protection: { enabled: false } }\n", nil); err != nil {
		t.Fatalf("postgres without secrets and without nonces: %v", err)
	}
}
