package signet

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/signet-id/signet/config"
)

// TestServerConfigDPoP: the DPoP settings and requireDPoP reach the
// server, and the nonce key is derived from the first protection secret,
// so two instances with the same secrets share it and another secret
// gives another key.
func TestServerConfigDPoP(t *testing.T) {
	parse := func(secret string) *config.Config {
		t.Helper()
		doc := "issuer: https://a.example\nstorage: { driver: postgres, dsn: 'postgres://x/y' }\n" +
			"keyManagement: { protection: { secrets: [" + secret + "] } }\n" +
			"dpop: { requireNonce: true, allowedSigningAlgorithms: [ES256], proofWindow: 30s }\n" +
			"apiResources: [ { name: r, scopes: [r.read] } ]\n" +
			"clients: [ { clientId: c, secrets: [ \"plain:c-secret-0123456789\" ], allowedGrantTypes: [client_credentials], requireDPoP: true } ]\n"
		c, err := config.Parse([]byte(doc), config.ParseOptions{Dir: t.TempDir(), LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.DiscardHandler)
	a := ServerConfig(parse("first-secret-abcdefgh"), nil, nil, log)
	b := ServerConfig(parse("first-secret-abcdefgh"), nil, nil, log)
	other := ServerConfig(parse("other-secret-abcdefgh"), nil, nil, log)
	switch {
	case !a.DPoP.RequireNonce || a.DPoP.ProofWindow.Seconds() != 30 || len(a.DPoP.Algorithms) != 1 || a.DPoP.Algorithms[0] != "ES256":
		t.Errorf("DPoP %+v", a.DPoP)
	case len(a.DPoP.NonceSecret) != 32 || !bytes.Equal(a.DPoP.NonceSecret, b.DPoP.NonceSecret):
		t.Errorf("nonce keys of two instances: %x %x", a.DPoP.NonceSecret, b.DPoP.NonceSecret)
	case bytes.Equal(a.DPoP.NonceSecret, other.DPoP.NonceSecret):
		t.Error("another protection secret gives the same nonce key")
	case bytes.Contains(a.DPoP.NonceSecret, []byte("first-secret")):
		t.Error("the nonce key is the protection secret itself")
	case !a.Clients[0].RequireDPoP || a.Clients[0].DPoPAlgorithms != nil:
		t.Errorf("client %+v: requireDPoP, and no proof algorithm restriction", a.Clients[0])
	}
}

// TestServerClientsFAPI2DPoP: a FAPI 2.0 client's DPoP proofs are limited
// to the profile's algorithms; other clients' are not.
func TestServerClientsFAPI2DPoP(t *testing.T) {
	cfg := &config.Config{Clients: []config.Client{
		{ClientID: "bank", SecurityProfile: config.ProfileFAPI2, RequireDPoP: true},
		{ClientID: "other"},
	}}
	clients, _ := ServerClients(cfg)
	if got := fmt.Sprint(clients[0].DPoPAlgorithms); got != "[PS256 ES256 EdDSA]" || !clients[0].RequireDPoP {
		t.Errorf("fapi2 client: algorithms %s, requireDPoP %v", got, clients[0].RequireDPoP)
	}
	if clients[1].DPoPAlgorithms != nil {
		t.Errorf("other client: algorithms %v", clients[1].DPoPAlgorithms)
	}
}
