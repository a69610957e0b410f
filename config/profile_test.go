package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/signet-id/signet/key"
)

// fapiDoc is a configuration with one fapi2 client, bank, whose
// authentication is auth and whose other settings are extra; Signet signs
// with algs and has the resources accounts (PS256 or ES256) and legacy
// (RS256 only).
func fapiDoc(algs, auth, extra string) string {
	return minimal + "keyManagement: { signingAlgorithms: [" + algs + "] }\n" + `apiResources:
  - { name: accounts, scopes: [accounts.read], allowedAccessTokenSigningAlgorithms: [PS256, ES256] }
  - { name: legacy, scopes: [legacy.read], allowedAccessTokenSigningAlgorithms: [RS256] }
clients:
  - clientId: other
    secrets: [plain:other]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [legacy.read]
  - clientId: bank
    securityProfile: fapi2
` + auth + `    allowedGrantTypes: [authorization_code, refresh_token, client_credentials]
    redirectUris: [https://bank.example/cb]
` + extra
}

const (
	fapiSecret = "    secrets: [plain:bank]\n"
	fapiScopes = "    allowedScopes: [openid, offline_access, accounts.read]\n"
)

// TestFAPI2Contradictions: config check names every setting of a fapi2
// client that contradicts the FAPI 2.0 Security Profile, each with the
// client, the setting, what the profile requires and the fix, all in one
// error.
func TestFAPI2Contradictions(t *testing.T) {
	secrets := `signet.yaml:15: clients[1].secrets: (bank) client secrets are not allowed: FAPI 2.0 authenticates clients by private_key_jwt or mutual TLS only; remove secrets and set tokenEndpointAuthMethod: private_key_jwt with the client's public keys (jwks or jwksUri)`
	public := `clients[1].tokenEndpointAuthMethod: (bank) none makes a public client, but FAPI 2.0 allows only confidential clients, authenticated by private_key_jwt or mutual TLS; set tokenEndpointAuthMethod: private_key_jwt`
	par := `clients[1].requirePushedAuthorizationRequests: (bank) false, but FAPI 2.0 accepts authorization requests only when pushed (PAR); remove the setting: securityProfile: fapi2 requires pushed requests`
	dpop := `clients[1].requireDPoP: (bank) false, but FAPI 2.0 issues only sender-constrained access tokens (DPoP or mutual TLS), and Signet binds them with DPoP; remove the setting: securityProfile: fapi2 requires DPoP`
	idAlg := `clients[1].allowedIdentityTokenSigningAlgorithms: (bank) lists RS256, but FAPI 2.0 allows only PS256, ES256, EdDSA; remove RS256, or remove the setting: a fapi2 client's ID tokens are signed with ES256`
	legacy := `apiResources[1].allowedAccessTokenSigningAlgorithms: (bank) may ask for tokens for legacy, which allows only RS256, but FAPI 2.0 allows only PS256, ES256, EdDSA; add ES256 to the resource's allowedAccessTokenSigningAlgorithms`
	noAlg := `keyManagement.signingAlgorithms: (bank) Signet signs only with RS256, but FAPI 2.0 allows only PS256, ES256, EdDSA for the client's tokens; add ES256 (or PS256, EdDSA) to keyManagement.signingAlgorithms`
	// A public client, which can use neither client_credentials nor refresh
	// tokens without offline_access.
	publicDoc := func(extra string) string {
		return strings.Replace(fapiDoc("ES256, RS256", "    tokenEndpointAuthMethod: none\n", extra),
			"[authorization_code, refresh_token, client_credentials]", "[authorization_code]", 1)
	}
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{"client secrets", fapiDoc("ES256, RS256", fapiSecret, fapiScopes), []string{secrets}},
		{"public client", publicDoc("    allowedScopes: [openid, accounts.read]\n"), []string{public}},
		{"PAR turned off", fapiDoc("ES256, RS256", fapiSecret, fapiScopes+"    requirePushedAuthorizationRequests: false\n"), []string{secrets, par}},
		{"DPoP turned off", fapiDoc("ES256, RS256", fapiSecret, fapiScopes+"    requireDPoP: false\n"), []string{secrets, dpop}},
		{"RS256 ID tokens", fapiDoc("ES256, RS256", fapiSecret, fapiScopes+"    allowedIdentityTokenSigningAlgorithms: [ES256, RS256]\n"), []string{secrets, idAlg}},
		{"RS256 access tokens", fapiDoc("ES256, RS256", fapiSecret, "    allowedScopes: [openid, offline_access, accounts.read, legacy.read]\n"), []string{secrets, legacy}},
		{"Signet signs only RS256", strings.NewReplacer("allowedAccessTokenSigningAlgorithms: [PS256, ES256]", "allowedAccessTokenSigningAlgorithms: [RS256]").Replace(fapiDoc("RS256", fapiSecret, fapiScopes)), []string{secrets, noAlg}},
		{"every contradiction at once", publicDoc("    allowedScopes: [openid, accounts.read, legacy.read]\n" +
			"    requirePushedAuthorizationRequests: false\n    requireDPoP: false\n    allowedIdentityTokenSigningAlgorithms: [ES256, RS256]\n"),
			[]string{public, par, dpop, idAlg, legacy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc, nil)
			if err == nil {
				t.Fatalf("loaded; want the contradictions:\n%s", strings.Join(tc.want, "\n"))
			}
			msg := err.Error()
			if want := fmt.Sprintf("signet.yaml: client bank (securityProfile: fapi2) contradicts the FAPI 2.0 Security Profile in %d setting(s):\n", len(tc.want)); !strings.HasPrefix(msg, want) {
				t.Errorf("error does not open with the client, the profile and the count %q:\n%s", want, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks\n  %s\ngot:\n%s", w, msg)
				}
			}
			var pe *ProfileError
			if !errors.As(err, &pe) || pe.ClientID != "bank" || len(pe.Contradictions) != len(tc.want) {
				t.Errorf("errors.As finds %+v, want a ProfileError of bank with %d contradictions", pe, len(tc.want))
			}
			if n := strings.Count(msg, "\n"); n != len(tc.want) {
				t.Errorf("%d contradictions reported, want %d:\n%s", n, len(tc.want), msg)
			}
		})
	}
}

// TestFAPI2ConformingClient: a fapi2 client whose settings all conform
// (authenticated by private_key_jwt: no secret, not public) passes the
// check, and the profile turns on PAR and DPoP and restricts its ID tokens
// to the FAPI 2.0 algorithms Signet signs with. The configuration file
// cannot say private_key_jwt yet (clients[].tokenEndpointAuthMethod gains
// it with the private_key_jwt work), so the check runs on the client
// resolved without the secret.
func TestFAPI2ConformingClient(t *testing.T) {
	c := mustParse(t, strings.Replace(fapiDoc("RS256, ES256, EdDSA", fapiSecret, fapiScopes), "    securityProfile: fapi2\n", "", 1), nil)
	cl := c.Clients[1]
	if cl.FAPI2() || cl.RequireDPoP || cl.RequirePushedAuthorizationRequests || cl.AllowedIdentityTokenSigningAlgorithms != nil {
		t.Fatalf("without a profile: %+v", cl)
	}
	cl.Secrets = nil // as private_key_jwt leaves it
	p := &parser{src: "signet.yaml", lines: lineIndex{byLine: map[int]string{}, byPath: map[string]int{}}}
	cd := &clientDoc{ClientID: "bank", SecurityProfile: "fapi2"}
	if err := p.resolveClientProfile("clients[1]", cd, &cl, c); err != nil {
		t.Fatalf("a conforming fapi2 client was refused: %v", err)
	}
	if !cl.FAPI2() || !cl.RequireDPoP || !cl.RequirePushedAuthorizationRequests ||
		!slices.Equal(cl.AllowedIdentityTokenSigningAlgorithms, []key.Algorithm{key.ES256, key.EdDSA}) {
		t.Errorf("fapi2 client resolved as %+v; want PAR and DPoP required, ID tokens ES256 or EdDSA", cl)
	}
	// Explicit true is no contradiction.
	yes := true
	cd.RequirePushedAuthorizationRequests, cd.RequireDPoP = &yes, &yes
	if err := p.resolveClientProfile("clients[1]", cd, &cl, c); err != nil {
		t.Fatalf("explicit true: %v", err)
	}
}

// TestFAPI2ConformingClientLoads: once the configuration file can say
// tokenEndpointAuthMethod: private_key_jwt (the private_key_jwt work),
// a conforming fapi2 client written in YAML loads. Until then the test
// says it is skipped, recognising only the message of today's parser.
func TestFAPI2ConformingClientLoads(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	auth := "    tokenEndpointAuthMethod: private_key_jwt\n    jwks: { keys: [ { kty: EC, crv: P-256, kid: bank-1, alg: ES256, use: sig, x: " +
		b64(b[1:33]) + ", y: " + b64(b[33:]) + " } ] }\n"
	c, err := parse(t, fapiDoc("ES256, RS256", auth, fapiScopes+"    requirePushedAuthorizationRequests: true\n"), nil)
	if err != nil && (strings.Contains(err.Error(), `unknown key "jwks" in clients[1]`) ||
		strings.Contains(err.Error(), `clients[1].tokenEndpointAuthMethod: "private_key_jwt" is not supported`)) {
		t.Skip("clients[].tokenEndpointAuthMethod: private_key_jwt is not in the configuration yet: conforming fapi2 clients are checked by TestFAPI2ConformingClient")
	}
	if err != nil {
		t.Fatalf("a conforming fapi2 client was refused: %v", err)
	}
	if cl := c.Clients[1]; !cl.FAPI2() || !cl.RequireDPoP || !cl.RequirePushedAuthorizationRequests || len(cl.Secrets) > 0 || cl.Public {
		t.Errorf("fapi2 client resolved as %+v", cl)
	}
}

// TestPushedRequestsAndDPoPSettings: the per-client and server-wide
// switches resolve into Client and Config, and misplaced or contradicting
// ones are refused with the fix.
func TestPushedRequestsAndDPoPSettings(t *testing.T) {
	doc := func(top, extra string) string {
		return minimal + top + `apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: web
    secrets: [plain:web]
    allowedGrantTypes: [authorization_code]
    redirectUris: [https://web.example/cb]
` + extra + `  - clientId: robot
    secrets: [plain:robot]
    allowedGrantTypes: [client_credentials]
    requireDPoP: true
`
	}
	c := mustParse(t, doc("", "    requirePushedAuthorizationRequests: true\n"), nil)
	web, robot := c.Clients[0], c.Clients[1]
	if c.RequirePushedAuthorizationRequests || !web.RequirePushedAuthorizationRequests || web.RequireDPoP || robot.RequirePushedAuthorizationRequests || !robot.RequireDPoP || web.FAPI2() {
		t.Errorf("per client: server %v, web %+v, robot %+v", c.RequirePushedAuthorizationRequests, web, robot)
	}
	c = mustParse(t, doc("requirePushedAuthorizationRequests: true\n", ""), nil)
	if !c.RequirePushedAuthorizationRequests || !c.Clients[0].RequirePushedAuthorizationRequests {
		t.Errorf("server-wide: server %v, web %+v", c.RequirePushedAuthorizationRequests, c.Clients[0])
	}
	c = mustParse(t, doc("", ""), nil)
	if c.RequirePushedAuthorizationRequests || c.Clients[0].RequirePushedAuthorizationRequests || c.Clients[0].RequireDPoP {
		t.Errorf("defaults: server %v, web %+v", c.RequirePushedAuthorizationRequests, c.Clients[0])
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"PAR without the login flow", strings.Replace(doc("", ""), "    requireDPoP: true\n", "    requirePushedAuthorizationRequests: true\n", 1),
			"signet.yaml:13: clients[1].requirePushedAuthorizationRequests: (robot) applies to authorization requests (the login flow); add authorization_code to allowedGrantTypes or remove requirePushedAuthorizationRequests"},
		{"client false under server-wide true", doc("requirePushedAuthorizationRequests: true\n", "    requirePushedAuthorizationRequests: false\n"),
			"clients[0].requirePushedAuthorizationRequests: (web) false contradicts requirePushedAuthorizationRequests: true at the top level, which requires pushed authorization requests of every client; remove one of them"},
		{"public client under server-wide true", strings.Replace(doc("requirePushedAuthorizationRequests: true\n", ""), "    secrets: [plain:web]\n", "    tokenEndpointAuthMethod: none\n", 1),
			"(web) is a public client (tokenEndpointAuthMethod: none), which cannot push authorization requests"},
		{"unknown profile", doc("", "    securityProfile: fapi1\n"),
			`clients[0].securityProfile: (web) "fapi1" is not a security profile Signet knows; allowed values are fapi2 (the FAPI 2.0 Security Profile), or omit securityProfile`},
		{"not a bool", doc("", "    requireDPoP: sometimes\n"), "requireDPoP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n  %v\nwant it to contain:\n  %s", err, tc.want)
			}
		})
	}
}

// TestAccessTokenSigningAlgorithms: a fapi2 client's access tokens keep
// only the FAPI 2.0 algorithms of a resource restriction; other clients'
// restrictions are unchanged.
func TestAccessTokenSigningAlgorithms(t *testing.T) {
	fapi, plain := Client{SecurityProfile: ProfileFAPI2}, Client{}
	restricted := []key.Algorithm{key.RS256, key.ES256}
	if got := fapi.AccessTokenSigningAlgorithms(restricted); !slices.Equal(got, []key.Algorithm{key.ES256}) {
		t.Errorf("fapi2, restricted: %v", got)
	}
	if !slices.Equal(restricted, []key.Algorithm{key.RS256, key.ES256}) {
		t.Errorf("the restriction was changed: %v", restricted)
	}
	if got := fapi.AccessTokenSigningAlgorithms(nil); !slices.Equal(got, FAPI2SigningAlgorithms()) {
		t.Errorf("fapi2, unrestricted: %v", got)
	}
	if got := plain.AccessTokenSigningAlgorithms(restricted); !slices.Equal(got, restricted) {
		t.Errorf("no profile: %v", got)
	}
	if got := plain.AccessTokenSigningAlgorithms(nil); got != nil {
		t.Errorf("no profile, unrestricted: %v", got)
	}
}
