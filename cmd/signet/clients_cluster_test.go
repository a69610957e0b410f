package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// addClient runs `signet clients add` and returns the secret it printed.
func addClient(t *testing.T, cfg string, vars map[string]string, id string) string {
	t.Helper()
	code, out, errs := runCLI(t, "", vars, "clients", "add", "--config", cfg, "--id", id, "--grant-type", "client_credentials", "--scope", "orders.read", "--json")
	if code != 0 {
		t.Fatalf("clients add %s: %d\n%s%s", id, code, out, errs)
	}
	var got struct {
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.ClientSecret == "" {
		t.Fatalf("clients add --json printed no secret: %v\n%s", err, out)
	}
	return got.ClientSecret
}

// tokenWithin asks in for a token as id until it gets one, for up to
// limit after since, and returns how long it took; it fails the test
// after limit. With want false it waits for a refusal instead.
func tokenWithin(t *testing.T, in *instance, id, secret string, since time.Time, limit time.Duration, want bool) time.Duration {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := in.token(ctx, id, secret, oauth2.AuthStyleInHeader, []string{"orders.read"}, nil)
		cancel()
		if (err == nil) == want {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			t.Fatalf("%s: token granted %v after %s, want %v within %s (last error: %v)", in.addr, err == nil, time.Since(since), want, limit, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPostgresClusterStoredClient: two instances share one PostgreSQL
// schema; a client added to the store (the CLI, as the admin API of any
// instance would) gets a token from the other instance within a second,
// its rotated-out secret is refused at once with --grace 0, it survives a
// SIGHUP, and a delete reaches both instances within a second.
func TestPostgresClusterStoredClient(t *testing.T) {
	dsn := pgSchemaDSN(t, "cluster registry test")
	cfg := writeFile(t, t.TempDir(), "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: postgres, dsn: "${PG_DSN}" }
keyManagement:
  signingAlgorithms: [ ES256 ]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
`+clientsYAML("ES256"))
	vars := map[string]string{"PG_DSN": dsn, "SIGNET_KEY_SECRET": "cluster-shared-secret-0123456789"}
	a := startServe(t, serveOptions{configPath: cfg}, vars)
	b := startServe(t, serveOptions{configPath: cfg}, vars)

	added := time.Now()
	secret := addClient(t, cfg, vars, "late")
	took := tokenWithin(t, b, "late", secret, added, time.Second, true)
	t.Logf("a client added to the store got a token from the other instance after %s", took)
	tokenWithin(t, a, "late", secret, added, time.Second, true)

	// A rotation with --grace 0: the old secret is refused by both.
	code, out, errs := runCLI(t, "", vars, "clients", "rotate-secret", "--config", cfg, "late", "--grace", "0", "--json")
	if code != 0 {
		t.Fatalf("rotate-secret: %d\n%s%s", code, out, errs)
	}
	rotated := time.Now()
	var rot struct {
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal([]byte(out), &rot); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*instance{a, b} {
		tokenWithin(t, in, "late", secret, rotated, time.Second, false)
		tokenWithin(t, in, "late", rot.ClientSecret, rotated, time.Second, true)
	}

	// SIGHUP re-reads the file and keeps the stored clients.
	b.reload <- syscall.SIGHUP
	time.Sleep(100 * time.Millisecond)
	tokenWithin(t, b, "late", rot.ClientSecret, time.Now(), time.Second, true)
	tokenWithin(t, b, "billing", testSecret, time.Now(), time.Second, true)

	if code, out, errs := runCLI(t, "", vars, "clients", "delete", "--config", cfg, "late"); code != 0 {
		t.Fatalf("delete: %d\n%s%s", code, out, errs)
	}
	deleted := time.Now()
	for _, in := range []*instance{a, b} {
		tokenWithin(t, in, "late", rot.ClientSecret, deleted, time.Second, false)
	}
}

// TestSQLiteStoredClientWhileServing: with SQLite, a client added by the
// CLI while the server runs is served within a second, without SIGHUP.
func TestSQLiteStoredClientWhileServing(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: `+filepath.Join(dir, "signet.db")+` }
keyManagement: { signingAlgorithms: [ ES256 ] }
`+clientsYAML("ES256"))
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	added := time.Now()
	secret := addClient(t, cfg, nil, "late")
	t.Logf("served after %s", tokenWithin(t, in, "late", secret, added, time.Second, true))
}
