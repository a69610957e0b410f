package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-id/signet/userstore"
)

// usersYAML is a configuration for two instances on one PostgreSQL
// schema (one issuer, ISSUER; each listens on its ADDR), with a
// configuration user.
const usersYAML = `
issuer: http://${ISSUER}
listen: ${ADDR}
storage: { driver: postgres, dsn: "${PG_DSN}" }
keyManagement:
  signingAlgorithms: [ ES256 ]
  protection: { secrets: [ "cluster-shared-secret-0123456789" ] }
passwords:
  argon2id: { memory: 8MiB, iterations: 1, parallelism: 1 }
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, profile, address, groups, offline_access]
    redirectUris: [ "http://127.0.0.1:1/cb" ]
users:
  - { subject: u-yaml, username: yaml-user, passwordHash: %q }
`

// TestServeStoreUsersCluster: two serve instances on PostgreSQL. A user
// added with signet users signs in on one and gets their claims from the
// other; signet users disable ends their refresh token and session on
// both at the next request; the configuration's user signs in beside
// them, and a reload swaps the configuration's users while the store's
// stay.
func TestServeStoreUsersCluster(t *testing.T) {
	dsn := pgSchemaDSN(t, "store users across instances")
	dir := t.TempDir()
	cheap := &userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 8 << 10, Iterations: 1, Parallelism: 1}}
	yamlHash, err := cheap.Hash("yaml-user-password") // the cheapest parameters: the machine may be loaded
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := writeFile(t, dir, "signet.yaml", fmt.Sprintf(usersYAML, strings.TrimSpace(yamlHash)))
	addrA, addrB := freeAddr(t), freeAddr(t)
	varsA := map[string]string{"PG_DSN": dsn, "ADDR": addrA, "ISSUER": addrA}
	varsB := map[string]string{"PG_DSN": dsn, "ADDR": addrB, "ISSUER": addrA}
	a := startServe(t, serveOptions{configPath: cfgPath}, varsA)
	b := startServe(t, serveOptions{configPath: cfgPath}, varsB)

	// Added while the servers run.
	code, out, errs := runCLI(t, "carol's long passphrase\n", varsA, "users", "add", "carol", "--config", cfgPath, "--subject", "u-carol",
		"--claim", `groups=["ops"]`, "--claim", `address={"country":"UK"}`, "--claim", "name=Carol")
	if code != 0 {
		t.Fatalf("users add: %d %s %s", code, out, errs)
	}

	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	authz := func(in *instance) string {
		return in.base + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"http://127.0.0.1:1/cb"},
			"scope": {"openid profile address groups offline_access"}, "state": {"x"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"}}.Encode()
	}
	browser := httpFlow()
	cb := signIn(t, browser, authz(a), "carol", "carol's long passphrase")
	tok := postToken(t, a.base+"/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}})
	claims := userinfo(t, b, tok["access_token"].(string))
	if fmt.Sprint(claims) != "map[address:map[country:UK] groups:[ops] name:Carol sub:u-carol]" {
		t.Errorf("userinfo on the other instance: %v", claims)
	}
	tok = postToken(t, b.base+"/connect/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tok["refresh_token"].(string)}})

	// Instance b honours the session a started.
	resp, err := browser.Get(authz(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "http://127.0.0.1:1/cb?code=") {
		t.Fatalf("authorize on b with a's session: %d %s, want a code", resp.StatusCode, loc)
	}

	// Disabled with the CLI: both instances refuse at the next request.
	if code, out, errs := runCLI(t, "", varsA, "users", "disable", "carol", "--config", cfgPath); code != 0 || !strings.Contains(out, "disabled carol; ended ") {
		t.Fatalf("users disable: %d %s %s", code, out, errs)
	}
	for _, in := range []*instance{b, a} {
		resp, err := http.PostForm(in.base+"/connect/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tok["refresh_token"].(string)}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_grant") {
			t.Errorf("%s: refresh after disable: %d %s", in.addr, resp.StatusCode, body)
		}
		resp, err = browser.Get(authz(in))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "/account/login") {
			t.Errorf("%s: authorize with the disabled user's session: %d %s, want the login page", in.addr, resp.StatusCode, loc)
		}
	}

	// The configuration's user signs in beside the store's.
	signIn(t, httpFlow(), authz(a), "yaml-user", "yaml-user-password")

	// A reload replaces the configuration's users; the store's stay.
	hash2, err := cheap.Hash("second-yaml-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(strings.Replace(usersYAML, "u-yaml, username: yaml-user", "u-yaml2, username: yaml-user2", 1), strings.TrimSpace(hash2))), 0o600); err != nil {
		t.Fatal(err)
	}
	a.reload <- syscall.SIGHUP
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.logs.String(), "configuration reloaded") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	signIn(t, httpFlow(), authz(a), "yaml-user2", "second-yaml-password")
	if code, _, _ := runCLI(t, "", varsA, "users", "enable", "carol", "--config", cfgPath); code != 0 {
		t.Fatal("users enable failed")
	}
	signIn(t, httpFlow(), authz(a), "carol", "carol's long passphrase")
}

func userinfo(t *testing.T, in *instance, at string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", in.base+"/connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("userinfo: %d %v", resp.StatusCode, err)
	}
	return m
}
