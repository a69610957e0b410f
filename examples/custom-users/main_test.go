package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	redirectURI = "http://127.0.0.1:1/callback" // never followed
	adminToken  = "an admin token for the test"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk0-custom-users"
	aliceSub    = "9f1c0c1e-5b8a-4f57-a3c2-0d7e6b1a2c3d"
)

// TestCustomUsers builds the example, runs it and drives a whole code
// flow with PKCE through its own login page: a wrong password and a
// cancel first, then alice. The ID token (verified with the published
// JWKS) and userinfo carry the claims of the example's user store; once
// the store disables alice, her refresh token and access token are
// refused.
func TestCustomUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	bin := filepath.Join(t.TempDir(), "custom-users")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-redirect", redirectURI)
	cmd.Env = append(os.Environ(), "CUSTOM_USERS_ADMIN_TOKEN="+adminToken)
	base := start(t, cmd)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(c *http.Client, method, u string, form url.Values, header ...string) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequestWithContext(ctx, method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	sum := sha256.Sum256([]byte(verifier))
	authorize := func(state string) url.Values {
		q := url.Values{"response_type": {"code"}, "client_id": {"demo-app"}, "redirect_uri": {redirectURI},
			"scope": {"openid profile email offline_access"}, "state": {state}, "nonce": {"nonce-" + state},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		resp, _ := do(browser, "GET", base+"/connect/authorize?"+q.Encode(), nil)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), base+"/account/login?") {
			t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, page := do(browser, "GET", resp.Header.Get("Location"), nil)
		if resp.StatusCode != 200 || !strings.Contains(page, "<h1>Example Corp</h1>") || !strings.Contains(page, "<strong>demo-app</strong>") {
			t.Fatalf("the custom login page: %d %s", resp.StatusCode, page)
		}
		return hiddenFields(t, page)
	}
	callback := func(resp *http.Response, body string) url.Values {
		t.Helper()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound || err != nil ||
			!strings.HasPrefix(loc.String(), redirectURI+"?") || loc.Query().Get("iss") != base {
			t.Fatalf("want a redirect to the client, got %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		return loc.Query()
	}

	// A wrong password: the page again, with its message.
	f := authorize("s1")
	f.Set("username", "alice")
	f.Set("password", "wrong")
	if resp, page := do(browser, "POST", base+"/account/login", f); resp.StatusCode != 200 || !strings.Contains(page, "Wrong username or password.") {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, page)
	}
	// Cancel: access_denied to the client.
	f = authorize("s2")
	f.Set("cancel", "1")
	if cb := callback(do(browser, "POST", base+"/account/login", f)); cb.Get("error") != "access_denied" || cb.Get("state") != "s2" {
		t.Fatalf("cancel: %v", cb)
	}
	// A form without its CSRF token never reaches the page.
	f = authorize("s3")
	f.Del("csrf")
	f.Set("username", "alice")
	f.Set("password", "down the rabbit hole")
	if resp, _ := do(browser, "POST", base+"/account/login", f); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", resp.StatusCode)
	}
	// alice signs in.
	f = authorize("s4")
	f.Set("username", "alice")
	f.Set("password", "down the rabbit hole")
	cb := callback(do(browser, "POST", base+"/account/login", f))
	if cb.Get("state") != "s4" || cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}

	resp, body := do(http.DefaultClient, "POST", base+"/connect/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {"demo-app"}, "code": {cb.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	var tr struct {
		AccessToken  string `json:"access_token"`
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tr) != nil || tr.IDToken == "" || tr.RefreshToken == "" {
		t.Fatalf("code exchange: %d %s", resp.StatusCode, body)
	}

	// The ID token verifies with the published JWKS; its claims are the
	// user store's.
	_, jwksBody := do(http.DefaultClient, "GET", base+"/.well-known/openid-configuration/jwks", nil)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwksBody), &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("JWKS %s: %v", jwksBody, err)
	}
	sig, err := jose.ParseSigned(tr.IDToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := sig.Verify(set.Key(sig.Signatures[0].Protected.KeyID)[0].Key)
	if err != nil {
		t.Fatalf("the ID token does not verify with the JWKS: %v", err)
	}
	var id map[string]any
	json.Unmarshal(payload, &id)
	groups, _ := id["groups"].([]any)
	if id["sub"] != aliceSub || id["iss"] != base || id["aud"] != "demo-app" || id["nonce"] != "nonce-s4" ||
		id["name"] != "Alice Liddell" || id["email"] != "alice@example.com" || len(groups) != 2 || groups[0] != "admins" {
		t.Fatalf("ID token claims: %v", id)
	}

	userinfo := func() (*http.Response, string) {
		return do(http.DefaultClient, "GET", base+"/connect/userinfo", nil, "Authorization", "Bearer "+tr.AccessToken)
	}
	if resp, body := userinfo(); resp.StatusCode != 200 ||
		body != `{"email":"alice@example.com","email_verified":true,"name":"Alice Liddell","preferred_username":"alice","sub":"`+aliceSub+`"}` {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
	refresh := func() (*http.Response, string) {
		return do(http.DefaultClient, "POST", base+"/connect/token", url.Values{"grant_type": {"refresh_token"},
			"client_id": {"demo-app"}, "refresh_token": {tr.RefreshToken}})
	}
	resp, body = refresh()
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &tr) != nil {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}

	// The store disables alice: refresh and userinfo are refused.
	if resp, body := do(http.DefaultClient, "POST", base+"/admin/users/alice/disable", url.Values{}, "Authorization", "Bearer "+adminToken); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	if resp, body := refresh(); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"invalid_grant"`) {
		t.Fatalf("refresh of a disabled user: %d %s", resp.StatusCode, body)
	}
	if resp, body := userinfo(); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("userinfo of a disabled user: %d %s", resp.StatusCode, body)
	}
	// Her browser's session is gone too: authorize shows the page again.
	authorize("s5")
}

var reHidden = regexp.MustCompile(`<input type="hidden" name="(request|csrf)" value="([^"]*)">`)

func hiddenFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("request") == "" || v.Get("csrf") == "" {
		t.Fatalf("no hidden fields in %s", page)
	}
	return v
}

// start runs cmd, returns the base URL it prints and stops it at the end
// of the test (SIGINT; it must exit cleanly).
func start(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	done := make(chan error, 1)
	go func() {
		io.Copy(io.Discard, br)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("no exit after SIGINT\n%s", stderr.String())
		}
	})
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v\n%s", line, err, stderr.String())
	}
	return base
}
