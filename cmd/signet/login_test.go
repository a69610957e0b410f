package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore/filestore"
	"github.com/signet-id/signet/keystore/memstore"
)

func TestHashPassword(t *testing.T) {
	code, out, errs := runCLI(t, "a person's password\n", nil, "hash-password")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("hash-password: %d %q %q", code, out, errs)
	}
	s, err := clientauth.ParseSecret(strings.TrimSpace(out))
	if err != nil || !s.Verify("a person's password") || s.Verify("a person's password\n") {
		t.Fatalf("%q does not verify: %v", out, err)
	}
	if strings.Contains(out, "password") {
		t.Fatal("the password is printed")
	}
	code, _, errs = runCLI(t, "\n", nil, "hash-password")
	if code != 1 || !strings.HasPrefix(errs, "signet: no password on stdin") {
		t.Fatalf("empty stdin: %d %q", code, errs)
	}
}

// TestGrantStoreWiring: the opened store serves the grants; a keys-only
// store turns the login flows off, or fails when they are configured.
func TestGrantStoreWiring(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cfg := &config.Config{Storage: config.Storage{Driver: config.DriverMemory}}
	if gs, err := signet.GrantStore(cfg, memstore.New(), log); err != nil || gs == nil {
		t.Fatalf("memory: %v %v", gs, err)
	}
	fs, err := filestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Storage.Driver = config.DriverFile
	if gs, err := signet.GrantStore(cfg, fs, log); err != nil || gs != nil {
		t.Fatalf("file store without login: %v %v", gs, err)
	}
	cfg.Clients = []config.Client{{ClientID: "spa", AllowedGrantTypes: []string{"authorization_code"}}}
	if _, err := signet.GrantStore(cfg, fs, log); err == nil || !strings.Contains(err.Error(), "storage.driver file cannot keep grants") {
		t.Fatalf("file store with a login client: %v", err)
	}
	api, identity := signet.SplitScopes([]string{"openid", "orders.read", "offline_access"})
	if fmt.Sprint(api, identity) != "[orders.read] [openid offline_access]" {
		t.Fatalf("splitScopes: %v %v", api, identity)
	}
}

// httpFlow is a cookie-keeping client that does not follow redirects.
func httpFlow() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
}

var reHidden = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

// signIn follows an authorization URL through the login page and returns
// the redirect back to the client.
func signIn(t *testing.T, c *http.Client, authorizeURL, username, password string) *url.URL {
	t.Helper()
	resp, err := c.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	resp, err = c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {username}, "password": {password}}
	for _, m := range reHidden.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	resp, err = c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/account/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d (page was %d bytes)", resp.StatusCode, len(page))
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func postToken(t *testing.T, tokenURL string, form url.Values) map[string]any {
	t.Helper()
	resp, err := http.PostForm(tokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	return m
}

// TestServeLoginFlow: serve wires users, clients and the SQLite grant
// store; a refresh token outlives a restart.
func TestServeLoginFlow(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	_, hash, _ := runCLI(t, "alice-password", nil, "hash-password")
	cfg := writeFile(t, dir, "signet.yaml", fmt.Sprintf(`
issuer: http://%s
listen: %s
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement: { signingAlgorithms: [ES256, EdDSA] }
apiResources: [ { name: orders, scopes: [orders.read], secrets: ["plain:orders-introspection"] } ]
clients:
  - clientId: spa
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, email, offline_access, orders.read]
    redirectUris: [ "http://127.0.0.1:1/cb" ]
    allowedIdentityTokenSigningAlgorithms: [EdDSA]
users:
  - { subject: u-1, username: alice, passwordHash: %q, claims: { email: alice@example.com } }
`, addr, addr, strings.TrimSpace(hash)))
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	authz := in.base + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"http://127.0.0.1:1/cb"},
		"scope": {"openid email offline_access orders.read"}, "state": {"x"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}.Encode()
	cb := signIn(t, httpFlow(), authz, "alice", "alice-password")
	if cb.Query().Get("iss") != in.issuer || cb.Query().Get("state") != "x" {
		t.Fatalf("callback %s", cb)
	}
	tok := postToken(t, in.base+"/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "code_verifier": {verifier}})
	if tok["id_token"] == nil || tok["refresh_token"] == nil || tok["scope"] != "openid email offline_access orders.read" {
		t.Fatalf("tokens %v", tok)
	}
	if kidAlg := strings.SplitN(tok["id_token"].(string), ".", 2)[0]; !strings.Contains(decodeSegment(t, kidAlg), `"alg":"EdDSA"`) {
		t.Fatalf("ID token header %s", decodeSegment(t, kidAlg))
	}
	// Introspection by the API resource with its secret.
	req, _ := http.NewRequest("POST", in.base+"/connect/introspect", strings.NewReader(url.Values{"token": {tok["access_token"].(string)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("orders", "orders-introspection")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"active":true`) || !strings.Contains(string(body), `"scope":"orders.read"`) {
		t.Fatalf("introspection: %s", body)
	}

	// A restart on the same database honours the refresh token.
	in.stop(t)
	in = startServe(t, serveOptions{configPath: cfg}, nil)
	tok2 := postToken(t, in.base+"/connect/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tok["refresh_token"].(string)}})
	if tok2["refresh_token"] == tok["refresh_token"] {
		t.Fatal("no rotation")
	}
	if logs := in.logs.String(); strings.Contains(logs, "alice-password") {
		t.Fatal("a password reached the logs")
	}
}

func decodeSegment(t *testing.T, s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeDevLogin follows what `serve --dev` prints for the login flow:
// the demo user's password, the authorize URL and the exchange.
func TestServeDevLogin(t *testing.T) {
	t.Chdir(t.TempDir())
	in := startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0"}, nil)
	banner := in.stdout.String()
	find := func(re string) []string {
		m := regexp.MustCompile(re).FindStringSubmatch(banner)
		if m == nil {
			t.Fatalf("no %s in the banner:\n%s", re, banner)
		}
		return m
	}
	user := find(`user\s+(\S+), password (\S+) \(kept in (\S+)\)`)
	authz := find(`(http://\S+/connect/authorize\?\S+)`)[1]
	verifier := find(`-d code_verifier=(\S+)`)[1]
	redirect := find(`-d redirect_uri=(\S+)`)[1]
	cb := signIn(t, httpFlow(), authz, user[1], user[2])
	if !strings.HasPrefix(cb.String(), redirect+"?") || cb.Query().Get("code") == "" {
		t.Fatalf("callback %s", cb)
	}
	tok := postToken(t, in.base+"/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"demo-app"},
		"redirect_uri": {redirect}, "code_verifier": {verifier}, "code": {cb.Query().Get("code")}})
	if tok["id_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("tokens %v", tok)
	}
	// The userinfo of the demo user.
	req, _ := http.NewRequestWithContext(context.Background(), "GET", in.base+"/connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"email":"demo@example.com"`) {
		t.Fatalf("userinfo %d %s", resp.StatusCode, body)
	}
	// The password is kept, like the demo client secret.
	in.stop(t)
	in = startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0"}, nil)
	if !strings.Contains(in.stdout.String(), "password "+user[2]+" ") {
		t.Fatal("a restart changed the demo password")
	}
}
