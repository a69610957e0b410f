package connect

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauth2Proxy returns the oauth2-proxy binary or skips the test.
func oauth2Proxy(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SIGNET_CONNECT_OAUTH2_PROXY"); p != "" {
		return p
	}
	p, err := exec.LookPath("oauth2-proxy")
	if err != nil {
		t.Skip("oauth2-proxy is not installed: its guide is skipped (go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6 and set SIGNET_CONNECT_OAUTH2_PROXY; .ci/connect.sh does)")
	}
	return p
}

// upstreamSeen is what the app behind oauth2-proxy received.
type upstreamSeen struct {
	User, Email, AccessToken string
}

// TestOAuth2Proxy runs oauth2-proxy with examples/connect/oauth2-proxy's
// configuration (docs/connect/oauth2-proxy.md) in front of an app that
// echoes what it receives: sign-in, the cookie refresh with a page's
// parallel requests, and logout through the backend logout URL.
func TestOAuth2Proxy(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	bin := oauth2Proxy(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(upstreamSeen{r.Header.Get("X-Forwarded-User"), r.Header.Get("X-Forwarded-Email"), r.Header.Get("X-Forwarded-Access-Token")})
	}))
	t.Cleanup(app.Close)
	addr := freeAddr(t)
	proxyURL := "http://" + addr
	s := startSignet(t, guideBlock(t, "oauth2-proxy"), proxyURL)
	secret := make([]byte, 32)
	rand.Read(secret)
	p := start(t, "oauth2-proxy", t.TempDir(), []string{
		"OAUTH2_PROXY_CLIENT_SECRET=oauth2-proxy-demo-secret-change-me",
		"OAUTH2_PROXY_COOKIE_SECRET=" + base64.URLEncoding.EncodeToString(secret),
	}, bin, "--config", filepath.Join(repoRoot, "examples/connect/oauth2-proxy/oauth2-proxy.cfg"),
		"--oidc-issuer-url", s.issuer, "--http-address", addr, "--redirect-url", proxyURL+"/oauth2/callback",
		"--upstream", app.URL+"/", "--backend-logout-url", s.issuer+"/connect/endsession?id_token_hint={id_token}",
		// http on loopback, and a refresh after 2 s instead of 4 minutes.
		"--cookie-secure=false", "--cookie-refresh", "2s")
	waitHTTP(t, p, proxyURL+"/ping")

	b := newBrowser(t)
	status, u, body := b.signIn(t, proxyURL+"/")
	if status != 200 || u.String() != proxyURL+"/" {
		t.Fatalf("after sign-in: %d %s\n%s", status, u, body)
	}
	first := seen(t, body)
	if first.User != subject || first.Email != "alice@example.com" || first.AccessToken == "" {
		t.Fatalf("the app behind received %+v, want alice's subject, email and an access token", first)
	}

	// A page's six parallel requests after the refresh period: each
	// refreshes with the same refresh token; all must reach the app (with
	// refreshTokenReuseInterval: 0s, all but one would be sent back to
	// the login page and the family revoked). oauth2-proxy counts the
	// session's age in whole seconds: wait past 3 s for "older than 2 s".
	time.Sleep(3500 * time.Millisecond)
	refreshes := s.issued(t, "refresh_token")
	var wg sync.WaitGroup
	results := make([]string, 6)
	for i := range results {
		wg.Go(func() {
			resp, err := b.Get(proxyURL + "/")
			if err != nil {
				results[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var got upstreamSeen
			if resp.Request.URL.Host != addr || json.NewDecoder(resp.Body).Decode(&got) != nil || got.User != subject {
				results[i] = fmt.Sprintf("%d at %s", resp.StatusCode, resp.Request.URL)
			} else if got.AccessToken == first.AccessToken {
				results[i] = "the access token was not refreshed"
			}
		})
	}
	wg.Wait()
	for i, r := range results {
		if r != "" {
			t.Errorf("parallel request %d after the refresh period: %s", i, r)
		}
	}
	if n := s.issued(t, "refresh_token") - refreshes; n < 1 {
		t.Errorf("Signet issued %d refresh_token grants after the refresh period, want at least 1", n)
	}
	// The family survived: the next refresh works too.
	time.Sleep(3500 * time.Millisecond)
	refreshes = s.issued(t, "refresh_token")
	status, u, body = b.get(t, proxyURL+"/")
	if status != 200 || u.Host != addr || seen(t, body).User != subject {
		t.Fatalf("after the second refresh period: %d %s\n%s", status, u, body)
	}
	if n := s.issued(t, "refresh_token") - refreshes; n != 1 {
		t.Errorf("Signet issued %d refresh_token grants for the second refresh, want 1", n)
	}

	// Logout: oauth2-proxy clears its cookie and calls Signet's
	// end-session endpoint from its backend; the browser still holds
	// Signet's session cookie, yet the next visit shows the login page.
	noFollow := *b.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(proxyURL + "/oauth2/sign_out?rd=%2Fsigned-out")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/signed-out" {
		t.Fatalf("sign_out answered %d to %q, want 302 to /signed-out", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, u, body = b.get(t, proxyURL+"/")
	if status != 200 || !isLoginPage(u, body) {
		t.Errorf("after sign_out, a visit did not show Signet's login page (the Signet session survived): %d %s\n%s", status, u, body)
	}
}

func seen(t *testing.T, body string) upstreamSeen {
	t.Helper()
	var s upstreamSeen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("not the app's answer: %v\n%s", err, strings.TrimSpace(body))
	}
	return s
}
