package main

import (
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeConnector: serve builds the configured OpenID Connect
// connector (its secret from ${VAR}, its records in SQLite): a second
// serve is the upstream; a person signs in through the connector's button
// and the client gets the downstream's tokens for the namespaced subject.
// A reload that changes connectors says a restart is needed.
func TestServeConnector(t *testing.T) {
	dir := t.TempDir()
	upAddr, downAddr := freeAddr(t), freeAddr(t)
	_, upPort, _ := net.SplitHostPort(upAddr)
	_, hash, _ := runCLI(t, "alice-password", nil, "hash-password")
	upCfg := writeFile(t, dir, "up.yaml", `
issuer: http://localhost:`+upPort+`
listen: `+upAddr+`
storage: { driver: memory }
clients:
  - clientId: down
    secrets: ["plain:down-secret-0123456789"]
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, profile, email, offline_access]
    redirectUris: [ "http://`+downAddr+`/account/login/corp/callback" ]
users:
  - { subject: u-1, username: alice, passwordHash: "`+strings.TrimSpace(hash)+`", claims: { email: alice@example.com } }
`)
	downDoc := `
issuer: http://` + downAddr + `
listen: ` + downAddr + `
storage: { driver: sqlite, dsn: ./down/signet.db }
connectors:
  - id: corp
    type: oidc
    name: "Acme SSO"
    issuer: http://localhost:` + upPort + `
    clientId: down
    clientSecret: ${UP_SECRET}
    scopes: [openid, profile, email, offline_access]
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    allowedScopes: [openid, email]
    redirectUris: [ "http://127.0.0.1:1/cb" ]
`
	downCfg := writeFile(t, dir, "down.yaml", downDoc)
	startServe(t, serveOptions{configPath: upCfg}, nil)
	down := startServe(t, serveOptions{configPath: downCfg}, map[string]string{"UP_SECRET": "down-secret-0123456789"})

	ff := newFormFlow(t)
	get, post := ff.get, ff.post
	verifier := strings.Repeat("v", 43)
	authz := down.base + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"http://127.0.0.1:1/cb"},
		"scope": {"openid email"}, "state": {"x"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}}.Encode()
	resp, _ := get(authz)
	_, page := get(resp.Header.Get("Location"))
	if !regexp.MustCompile(`name="connector" value="corp"[^>]*>Sign in with Acme SSO<`).MatchString(page) || strings.Contains(page, `name="password"`) {
		t.Fatalf("downstream login page:\n%s", page)
	}
	f := hidden(page)
	f.Set("connector", "corp")
	resp, _ = post(down.base+"/account/login", f)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "http://localhost:"+upPort+"/connect/authorize?") {
		t.Fatalf("button: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = get(resp.Header.Get("Location"))
	loginURL := resp.Header.Get("Location")
	_, page = get(loginURL)
	f = hidden(page)
	f.Set("username", "alice")
	f.Set("password", "alice-password")
	resp, _ = post("http://localhost:"+upPort+"/account/login", f)
	resp, _ = get(resp.Header.Get("Location")) // the downstream's callback
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if cb.Query().Get("code") == "" || cb.Query().Get("iss") != down.issuer {
		t.Fatalf("back at the client: %d %s\nlogs:\n%s", resp.StatusCode, cb, down.logs)
	}
	tok := postToken(t, down.base+"/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}})
	idt, _ := tok["id_token"].(string)
	if parts := strings.Split(idt, "."); len(parts) != 3 || !strings.Contains(decodeSegment(t, parts[1]), `"sub":"corp:u-1"`) {
		t.Fatalf("tokens %v", tok)
	}
	if strings.Contains(down.logs.String(), "down-secret-0123456789") {
		t.Error("the connector's secret reached the logs")
	}

	// A reload that changes connectors: a restart is needed.
	if err := os.WriteFile(downCfg, []byte(strings.Replace(downDoc, `name: "Acme SSO"`, `name: "Acme"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	down.reload <- syscall.SIGHUP
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(down.logs.String(), "take effect only after a restart") {
		if time.Now().After(deadline) {
			t.Fatalf("no restart notice:\n%s", down.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !regexp.MustCompile(`take effect only after a restart" settings=\S*connectors`).MatchString(down.logs.String()) {
		t.Errorf("the notice does not name connectors:\n%s", down.logs)
	}
}

// s256 is a PKCE challenge.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
