package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// TestPostgresCluster runs two instances on one PostgreSQL schema: they
// publish the same keys, and a token from one verifies against the other.
// It runs when SIGNET_TEST_POSTGRES_DSN points at a server (.ci/run sets it).
func TestPostgresCluster(t *testing.T) {
	dsn := os.Getenv("SIGNET_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SIGNET_TEST_POSTGRES_DSN not set: PostgreSQL end-to-end test skipped")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "signet_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("the DSN is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	cfg := writeFile(t, t.TempDir(), "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: postgres, dsn: "${PG_DSN}" }
keyManagement:
  signingAlgorithms: [ ES256, EdDSA ]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
`+clientsYAML("EdDSA"))
	vars := map[string]string{"PG_DSN": u.String(), "SIGNET_KEY_SECRET": "cluster-shared-secret-0123456789"}
	a := startServe(t, serveOptions{configPath: cfg}, vars)
	b2 := startServe(t, serveOptions{configPath: cfg}, vars)

	ka, kb := jwksKids(t, a.jwksURL()), jwksKids(t, b2.jwksURL())
	slices.Sort(ka)
	slices.Sort(kb)
	if len(ka) != 2 || !slices.Equal(ka, kb) {
		t.Fatalf("instances publish different keys: %v and %v", ka, kb)
	}
	for _, pair := range [][2]*instance{{a, b2}, {b2, a}} {
		tok, err := pair[0].token(ctx, "billing", testSecret, oauth2.AuthStyleInHeader, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if _, err := verifyWith(vctx, oidc.NewRemoteKeySet(vctx, pair[1].jwksURL()), tok); err != nil {
			t.Errorf("a token from one instance does not verify against the other: %v", err)
		}
		cancel()
	}

	// config check --connect reaches the same schema, opens both keys,
	// and never prints the DSN; with another secret it fails.
	code, out, errs := runCLI(t, "", vars, "config", "check", "--config", cfg, "--connect")
	if code != 0 || !strings.Contains(out, "store: postgres, schema version ") || !strings.Contains(out, "keys: 2 stored, 2 open with the configured secrets") {
		t.Errorf("config check --connect: %d\n%s%s", code, out, errs)
	}
	if p, ok := u.User.Password(); ok && strings.Contains(out+errs, p) {
		t.Errorf("config check --connect printed the database password")
	}
	wrong := maps.Clone(vars)
	wrong["SIGNET_KEY_SECRET"] = "another-secret-0123456789abcdef"
	if code, out, errs := runCLI(t, "", wrong, "config", "check", "--config", cfg, "--connect"); code != 1 || !strings.Contains(errs, "serve would start but not become ready: 2 published key(s) cannot be opened") {
		t.Errorf("config check --connect with another secret: %d\n%s%s", code, out, errs)
	}
}
