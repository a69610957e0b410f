package main

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestPostgresCluster runs two instances on one PostgreSQL schema: they
// publish the same keys, and a token from one verifies against the other.
// It runs when SIGNET_TEST_POSTGRES_DSN points at a server (.ci/run sets it).
func TestPostgresCluster(t *testing.T) {
	ctx := context.Background()
	dsn := pgSchemaDSN(t, "end-to-end test")

	cfg := writeFile(t, t.TempDir(), "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: postgres, dsn: "${PG_DSN}" }
keyManagement:
  signingAlgorithms: [ ES256, EdDSA ]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
`+clientsYAML("EdDSA"))
	vars := map[string]string{"PG_DSN": dsn, "SIGNET_KEY_SECRET": "cluster-shared-secret-0123456789"}
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
	if u, err := url.Parse(dsn); err == nil {
		if p, ok := u.User.Password(); ok && strings.Contains(out+errs, p) {
			t.Errorf("config check --connect printed the database password")
		}
	}
	wrong := maps.Clone(vars)
	wrong["SIGNET_KEY_SECRET"] = "another-secret-0123456789abcdef"
	if code, out, errs := runCLI(t, "", wrong, "config", "check", "--config", cfg, "--connect"); code != 1 || !strings.Contains(errs, "serve would start but not become ready: 2 published key(s) cannot be opened") {
		t.Errorf("config check --connect with another secret: %d\n%s%s", code, out, errs)
	}
}
