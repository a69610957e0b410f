package connect

import (
	"encoding/json"
	"strings"
	"testing"
)

// The example web apps (Go, Node, Python) share one contract: /login
// starts a sign-in, /callback finishes it and redirects to /me, /me shows
// the user from userinfo as JSON, POST /refresh refreshes, /logout sends
// the browser through Signet's end-session endpoint back to APP_URL/.

// checkWebApp drives an example web app at appURL through sign-in,
// userinfo, refresh and logout, checking each against Signet.
func checkWebApp(t *testing.T, s *signet, appURL string) {
	t.Helper()
	b := newBrowser(t)
	codes := s.issued(t, "authorization_code")

	// Sign in: the app's /login leads to the login page; the form post
	// comes back through /callback to /me.
	status, u, body := b.signIn(t, appURL+"/login")
	if status != 200 || u.Path != "/me" {
		t.Fatalf("after sign-in: %d %s\n%s", status, u, body)
	}
	checkMe(t, body)
	if got := s.issued(t, "authorization_code"); got != codes+1 {
		t.Errorf("Signet issued %d tokens for codes during the sign-in, want 1", got-codes)
	}

	// Refresh: Signet issues a refresh_token grant, and the new access
	// token works at userinfo.
	refreshes := s.issued(t, "refresh_token")
	status, _, body = b.post(t, appURL+"/refresh", nil)
	if status != 200 || !strings.Contains(body, `"refreshed"`) {
		t.Fatalf("refresh: %d\n%s", status, body)
	}
	if got := s.issued(t, "refresh_token"); got != refreshes+1 {
		t.Errorf("Signet issued %d refresh_token grants for /refresh, want 1", got-refreshes)
	}
	status, _, body = b.get(t, appURL+"/me")
	if status != 200 {
		t.Fatalf("/me after the refresh: %d\n%s", status, body)
	}
	checkMe(t, body)

	// Logout: through Signet's end-session endpoint (no confirmation with
	// the ID token as hint) back to the app's start page.
	status, u, body = b.get(t, appURL+"/logout")
	if status != 200 || u.String() != appURL+"/" {
		t.Fatalf("logout ended at %d %s, want %s/\n%s", status, u, appURL, body)
	}
	if status, _, _ := b.get(t, appURL+"/me"); status != 401 {
		t.Errorf("/me after logout: %d, want 401", status)
	}
	// Signet's session ended too: a new sign-in shows the login page
	// instead of returning a code at once.
	status, u, body = b.get(t, appURL+"/login")
	if status != 200 || !isLoginPage(u, body) {
		t.Errorf("after logout, /login did not show Signet's login page (the Signet session survived): %d %s\n%s", status, u, body)
	}
}

func checkMe(t *testing.T, body string) {
	t.Helper()
	var me struct{ Sub, Name, Email string }
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatalf("/me is not JSON: %v\n%s", err, body)
	}
	if me.Sub != subject || me.Name != "Alice Liddell" || me.Email != "alice@example.com" {
		t.Errorf("/me = %+v, want alice's subject, name and email", me)
	}
}

// appEnv is the environment of an example web app.
func appEnv(s *signet, clientID, secret, appURL string) []string {
	return []string{"SIGNET_ISSUER=" + s.issuer, "CLIENT_ID=" + clientID, "CLIENT_SECRET=" + secret, "APP_URL=" + appURL}
}

// TestGoWeb runs examples/connect/goweb (docs/connect/go-web.md).
func TestGoWeb(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	appURL := "http://" + freeAddr(t)
	s := startSignet(t, guideBlock(t, "go-web"), appURL)
	p := start(t, "goweb", t.TempDir(), appEnv(s, "go-web", "go-web-demo-secret-change-me", appURL), bins["goweb"])
	waitHTTP(t, p, appURL+"/")
	checkWebApp(t, s, appURL)
}
