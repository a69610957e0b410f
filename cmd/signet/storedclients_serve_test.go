package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestServeStoredClientLoginPolicies: clients added with `signet clients
// add` get what a YAML client with the same keys gets from serve: the
// consent page (requireConsent), the second-factor step (requireMfa),
// their name and logo (displayName, logoUri) and only the sign-in ways
// they allow (allowedConnectors).
func TestServeStoredClientLoginPolicies(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	_, hash, _ := runCLI(t, "alice-password", nil, "hash-password")
	cfg := writeFile(t, dir, "signet.yaml", fmt.Sprintf(`
issuer: http://%s
listen: %s
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement:
  signingAlgorithms: [ ES256 ]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
connectors:
  - { id: corp, type: oidc, name: "Acme SSO", issuer: "http://127.0.0.1:1", clientId: s, clientSecret: s }
users:
  - { subject: u-1, username: alice, passwordHash: %q }
`, addr, addr, strings.TrimSpace(hash)))
	vars := map[string]string{"SIGNET_KEY_SECRET": "stored-login-secret-0123456789"}
	const cb = "http://127.0.0.1:1/cb"
	add := func(id string, flags ...string) {
		t.Helper()
		args := append([]string{"clients", "add", "--config", cfg, "--id", id, "--public", "--grant-type", "authorization_code",
			"--scope", "openid", "--redirect-uri", cb}, flags...)
		if code, out, errs := runCLI(t, "", vars, args...); code != 0 {
			t.Fatalf("clients add %s: %d\n%s%s", id, code, out, errs)
		}
	}
	in := startServe(t, serveOptions{configPath: cfg}, vars) // creates the store
	add("consent-app", "--require-consent", "--display-name", "Consent App", "--logo-uri", "https://cdn.example.com/consent.png", "--connector", "local")
	add("mfa-app", "--require-mfa")
	add("corp-app", "--connector", "corp")
	add("plain-app")

	loginPage := func(ff formFlow, id string) string {
		t.Helper()
		authz := in.base + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {cb},
			"scope": {"openid"}, "state": {"x"}, "code_challenge": {s256(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"}}.Encode()
		var page string
		// The stored client is served within a second of its add.
		within(t, id+" served", func() error {
			resp, _ := ff.get(authz)
			if resp.StatusCode != 302 && resp.StatusCode != 303 {
				return fmt.Errorf("authorize %d", resp.StatusCode)
			}
			_, page = ff.get(resp.Header.Get("Location"))
			return nil
		})
		return page
	}
	signIn := func(ff formFlow, page string) (int, string) {
		t.Helper()
		f := hidden(page)
		f.Set("username", "alice")
		f.Set("password", "alice-password")
		resp, body := ff.post(in.base+"/account/login", f)
		return resp.StatusCode, body
	}
	const corpButton, passwordField = `name="connector" value="corp"`, `name="password"`

	ff := newFormFlow(t)
	page := loginPage(ff, "consent-app")
	if !strings.Contains(page, "Consent App") || !strings.Contains(page, `src="https://cdn.example.com/consent.png"`) ||
		strings.Contains(page, corpButton) || !strings.Contains(page, passwordField) {
		t.Fatalf("consent-app (local only) login page:\n%s", page)
	}
	if code, body := signIn(ff, page); code != 200 || !strings.Contains(body, `action="/account/consent"`) {
		t.Errorf("consent-app: after the password %d, want the consent page:\n%s", code, body)
	}

	ff = newFormFlow(t)
	if code, body := signIn(ff, loginPage(ff, "mfa-app")); code != 200 || !strings.Contains(body, `action="/account/login/mfa"`) || !strings.Contains(body, "<svg") {
		t.Errorf("mfa-app: after the password %d, want the second-factor enrolment:\n%s", code, body)
	}

	ff = newFormFlow(t)
	if page := loginPage(ff, "corp-app"); !strings.Contains(page, corpButton) || strings.Contains(page, passwordField) {
		t.Errorf("corp-app login page: want the corp button only:\n%s", page)
	}

	// A stored client without these keys: every way in, no consent page.
	ff = newFormFlow(t)
	page = loginPage(ff, "plain-app")
	if !strings.Contains(page, corpButton) || !strings.Contains(page, passwordField) {
		t.Errorf("plain-app login page: want both ways in:\n%s", page)
	}
	if code, _ := signIn(ff, page); code != 302 && code != 303 {
		t.Errorf("plain-app: after the password %d, want the redirect to the client", code)
	}
}

// TestServeAdminAPIAfterReload: the admin API checks a change against
// the configuration file in use after a SIGHUP, not the start's: a scope
// the reloaded file adds may be used, and an id it adds is reserved (409
// naming the file).
func TestServeAdminAPIAfterReload(t *testing.T) {
	dir := t.TempDir()
	doc := `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement: { signingAlgorithms: [ES256] }
adminAPI: { enabled: true }
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: ops
    secrets: ["plain:ops-secret-for-the-test"]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [signet.admin.read, signet.admin.write]
`
	cfg := writeFile(t, dir, "signet.yaml", doc)
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	admin, err := in.token(context.Background(), "ops", "ops-secret-for-the-test", oauth2.AuthStyleInHeader, []string{"signet.admin.write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stock := `{"clientId":"stock-client","allowedGrantTypes":["client_credentials"],"allowedScopes":["stock.read"]}`
	if code, _, m := call(t, "POST", in.base+"/admin/v1/clients", admin, stock); code != 400 {
		t.Fatalf("before the reload, stock.read is unknown: %d %v", code, m)
	}
	reloaded := strings.Replace(doc, `apiResources: [ { name: orders, scopes: [orders.read] } ]`,
		`apiResources: [ { name: orders, scopes: [orders.read] }, { name: stock, scopes: [stock.read] } ]`, 1) + `
  - clientId: late-yaml
    secrets: ["plain:late-secret-for-the-test"]
    allowedGrantTypes: [client_credentials]
`
	if err := os.WriteFile(cfg, []byte(reloaded), 0o600); err != nil {
		t.Fatal(err)
	}
	in.reload <- syscall.SIGHUP
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(in.logs.String(), "configuration reloaded"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload:\n%s", in.logs)
		}
	}
	if code, _, m := call(t, "POST", in.base+"/admin/v1/clients", admin, stock); code != 201 {
		t.Errorf("after the reload, a client of the file's new scope: %d %v", code, m)
	}
	if code, _, m := call(t, "POST", in.base+"/admin/v1/clients", admin, `{"clientId":"late-yaml","allowedGrantTypes":["client_credentials"]}`); code != 409 || !strings.Contains(fmt.Sprint(m), "signet.yaml") {
		t.Errorf("after the reload, an id the file now defines: %d %v", code, m)
	}
}
