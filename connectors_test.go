package signet

import (
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// TestConnectors: the configured connectors become the server's, over
// the store's records (SQLite) or memory; clients keep allowedConnectors.
func TestConnectors(t *testing.T) {
	doc := `issuer: https://login.example.com
storage: { driver: memory }
connectors:
  - { id: corp, type: oidc, name: "Acme SSO", issuer: "https://sso.example", clientId: s }
clients:
  - { clientId: wiki, tokenEndpointAuthMethod: none, allowedGrantTypes: [authorization_code], allowedScopes: [openid], redirectUris: ["https://wiki.example/cb"], allowedConnectors: [corp] }
`
	cfg, err := config.Parse([]byte(doc), config.ParseOptions{Source: "signet.yaml", LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	set, err := Connectors(cfg, memstore.New(), nil, log)
	if err != nil || len(set.All()) != 1 || set.Get("corp").Name() != "Acme SSO" {
		t.Fatalf("memory: %v %v", set.All(), err)
	}
	if _, ok := set.Get("corp").(connector.Redirect); !ok {
		t.Error("an oidc connector is a redirect connector")
	}
	db, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if set, err = Connectors(cfg, db, nil, log); err != nil || set.Get("corp") == nil {
		t.Fatalf("sqlite: %v", err)
	}
	clients, _ := ServerClients(cfg)
	if !slices.Equal(clients[0].AllowedConnectors, []string{"corp"}) {
		t.Errorf("allowedConnectors %q", clients[0].AllowedConnectors)
	}
	none, err := Connectors(&config.Config{}, memstore.New(), nil, log)
	if none != nil || err != nil {
		t.Errorf("no connectors: %v %v", none, err)
	}
	cfg.Storage.Driver = config.DriverFile
	if _, err := Connectors(cfg, keysOnly{}, nil, log); err == nil || !strings.Contains(err.Error(), "cannot keep the users of connectors") {
		t.Errorf("a store without records: %v", err)
	}
}

// keysOnly is a key store that keeps no connector records.
type keysOnly struct{ *memstore.Store }
