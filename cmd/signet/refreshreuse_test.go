package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgSchemaDSN returns SIGNET_TEST_POSTGRES_DSN with a fresh schema as its
// search_path, dropped after the test; it skips the test without a DSN.
func pgSchemaDSN(t *testing.T, what string) string {
	t.Helper()
	dsn := os.Getenv("SIGNET_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SIGNET_TEST_POSTGRES_DSN not set: PostgreSQL " + what + " skipped")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "signet_e2e_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("the DSN is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestServeConcurrentRefresh is oauth2-proxy's scenario end to end: six
// parallel requests present the same refresh token (here spread over two
// instances on PostgreSQL). With the default refreshTokenReuseInterval all
// six get the same successor and the session goes on.
func TestServeConcurrentRefresh(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			storage, vars, instances := "{ driver: sqlite, dsn: ./data/signet.db }", map[string]string{}, 1
			if store == "postgres" {
				storage, instances = `{ driver: postgres, dsn: "${PG_DSN}" }`, 2
				vars = map[string]string{"PG_DSN": pgSchemaDSN(t, "concurrent refresh test"), "SIGNET_KEY_SECRET": "refresh-test-secret-0123456789ab"}
			}
			_, hash, _ := runCLI(t, "alice-password", nil, "hash-password")
			addr := freeAddr(t) // the issuer: the first instance
			doc := fmt.Sprintf(`
issuer: http://%s
listen: %s
storage: %s
keyManagement: { signingAlgorithms: [ES256]%s }
clients:
  - clientId: proxy
    secrets: [ "plain:proxy-secret" ]
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, email, offline_access]
    redirectUris: [ "http://127.0.0.1:1/oauth2/callback" ]
users:
  - { subject: u-1, username: alice, passwordHash: %q }
`, addr, addr, storage, map[bool]string{true: `, protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }`}[store == "postgres"], strings.TrimSpace(hash))
			cfg := writeFile(t, t.TempDir(), "signet.yaml", doc)
			var ins []*instance
			for i := range instances {
				o := serveOptions{configPath: cfg}
				if i > 0 {
					o.listen = "127.0.0.1:0"
				}
				ins = append(ins, startServe(t, o, vars))
			}
			verifier := strings.Repeat("v", 43)
			sum := sha256.Sum256([]byte(verifier))
			authz := ins[0].base + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"proxy"},
				"redirect_uri": {"http://127.0.0.1:1/oauth2/callback"}, "scope": {"openid email offline_access groups"}, "state": {"x"},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
			cb := signIn(t, httpFlow(), authz, "alice", "alice-password")
			tok := proxyToken(t, ins[0].base, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
				"redirect_uri": {"http://127.0.0.1:1/oauth2/callback"}, "code_verifier": {verifier}})
			r1 := tok["refresh_token"].(string)

			answers := make([]map[string]any, 6)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range answers {
				wg.Go(func() {
					<-start
					answers[i] = proxyToken(t, ins[i%len(ins)].base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r1}})
				})
			}
			close(start)
			wg.Wait()
			r2 := ""
			for i, a := range answers {
				if a == nil {
					t.Fatalf("refresh %d failed", i)
				}
				if r2 == "" {
					r2, _ = a["refresh_token"].(string)
				}
				if a["refresh_token"] != r2 || a["access_token"] == nil || a["id_token"] == nil {
					t.Fatalf("refresh %d: %v, want the one successor %s", i, a, r2)
				}
			}
			// The session goes on: the successor rotates.
			if next := proxyToken(t, ins[len(ins)-1].base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2}}); next == nil || next["refresh_token"] == r2 {
				t.Fatalf("next refresh: %v", next)
			}
		})
	}
}

// proxyToken posts to the token endpoint as the confidential client
// "proxy"; nil (with an error reported) when it is refused.
func proxyToken(t *testing.T, base string, form url.Values) map[string]any {
	req, _ := http.NewRequest("POST", base+"/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("proxy", "proxy-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &m) != nil {
		t.Errorf("token: %d %s", resp.StatusCode, body)
		return nil
	}
	return m
}
