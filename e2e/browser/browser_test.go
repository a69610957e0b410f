package browser

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/argon2"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server"
)

const (
	username = "alice"
	password = "correct horse battery staple"
	clientID = "browser-app"
)

// findChromium returns the browser to drive, or skips the test.
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed: the real-browser test is skipped (apt-get install chromium; .ci/run installs it)")
	return ""
}

// cheapHash is an argon2id PHC string with the cheapest parameters the
// parser accepts.
func cheapHash(t *testing.T, pw string) *clientauth.Secret {
	salt := []byte("browser-test-salt")
	h := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	s, err := clientauth.ParseSecret(fmt.Sprintf("$argon2id$v=19$m=8,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// relyingParty is the client's callback server: it records what arrives.
type relyingParty struct {
	mu   sync.Mutex
	got  map[string]url.Values // by path
	srv  *httptest.Server
	seen chan string // paths, as they arrive
}

func newRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{got: map[string]url.Values{}, seen: make(chan string, 16)}
	rp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.got[r.URL.Path] = r.URL.Query()
		rp.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>RP</title><p id="done">%s</p></html>`, r.URL.Path)
		rp.seen <- r.URL.Path
	}))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *relyingParty) wait(t *testing.T, path string) url.Values {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case p := <-rp.seen:
			if p == path {
				rp.mu.Lock()
				defer rp.mu.Unlock()
				return rp.got[path]
			}
		case <-timeout:
			t.Fatalf("the browser never reached %s%s", rp.srv.URL, path)
		}
	}
}

// startSignet runs Signet in-process with real managed keys; mods change
// its configuration first.
func startSignet(t *testing.T, rp *relyingParty, mods ...func(*server.Config)) string {
	return startSignetAt(t, "", rp, mods...)
}

// startSignetAt is startSignet with the issuer's host ("": 127.0.0.1).
func startSignetAt(t *testing.T, host string, rp *relyingParty, mods ...func(*server.Config)) string {
	return startServer(t, host, func(issuer string, m *keymanager.Manager, store *memstore.Store) server.Config {
		cfg := server.Config{
			Issuer: issuer,
			Keys:   m,
			Clients: []server.Client{{
				ID: clientID, Public: true, GrantTypes: []string{"authorization_code", "refresh_token"},
				IdentityScopes: []string{"openid", "profile", "email", "offline_access"},
				RedirectURIs:   []string{rp.srv.URL + "/callback"}, PostLogoutRedirectURIs: []string{rp.srv.URL + "/bye"},
				// The reference's rule: the client restricts ID tokens to EdDSA.
				AllowedIdentityTokenSigningAlgorithms: []key.Algorithm{key.EdDSA},
				AccessTokenLifetime:                   10 * time.Minute, RefreshTokenLifetime: time.Hour,
				// Its pages (another origin: another port) call Signet from
				// JavaScript.
				AllowedCORSOrigins: []string{rp.srv.URL},
			}},
			Grants: store,
			Users: []server.User{{Subject: "user-alice", Username: username, Password: cheapHash(t, password),
				Claims: map[string]any{"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true}}},
		}
		for _, m := range mods {
			m(&cfg)
		}
		return cfg
	})
}

// startServer runs a Signet in-process with real managed keys (ES256,
// EdDSA) on a memory store that also keeps the grants, configured by cfg
// for its issuer. host names the issuer's host ("": 127.0.0.1): two
// servers a browser visits need two names, or their cookies mix.
func startServer(t *testing.T, host string, cfg func(issuer string, m *keymanager.Manager, store *memstore.Store) server.Config, started ...func(*server.Server)) string {
	store := memstore.New()
	m := managedKeys(t, store, key.ES256, key.EdDSA)
	ts := httptest.NewUnstartedServer(nil)
	addr := ts.Listener.Addr().String()
	if host != "" {
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(host, port)
	}
	issuer := "http://" + addr
	s, err := server.New(cfg(issuer, m, store))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range started {
		f(s)
	}
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)
	return issuer
}

// managedKeys is a started key manager over store with keys of algs,
// unsealed.
func managedKeys(t *testing.T, store *memstore.Store, algs ...key.Algorithm) *keymanager.Manager {
	opts := key.DefaultOptions()
	opts.SigningAlgorithms = nil
	for _, a := range algs {
		opts.SigningAlgorithms = append(opts.SigningAlgorithms, key.AlgorithmOptions{Algorithm: a})
	}
	opts.ProtectKeys = false
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m
}

// newBrowser starts headless Chromium the way this machine needs it.
func newBrowser(t *testing.T, exe string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// artifactDir is where the screenshot goes.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("SIGNET_ARTIFACTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

func TestBrowserLogin(t *testing.T) {
	exe := findChromium(t)
	rp := newRelyingParty(t)
	issuer := startSignet(t, rp)
	bctx := newBrowser(t, exe)
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	run := runner(t, bctx)

	provider, err := oidc.NewProvider(ctx, issuer) // discovery; checks the issuer
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: client_id, no secret
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-456"))

	// The login page, as a person on a phone sees it.
	run("open the login page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.ID("username")))
	// Readable on a phone: the viewport meta makes the page as wide as
	// the screen, so nothing scrolls sideways.
	if w := value(t, bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Fatalf("the login page is %d CSS pixels wide on a 390-pixel phone", w)
	}
	lang := value(t, bctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	focused := value(t, bctx, chromedp.Evaluate[string](`document.activeElement.id`))
	title := value(t, bctx, chromedp.Title())
	labels := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('label[for=username], label[for=password]').length`))
	shot := value(t, bctx, chromedp.FullScreenshot(100))
	if labels != 2 || lang != "en" || focused != "username" || title != "Sign in · Signet" {
		t.Fatalf("login page: %d labels, lang %q, focus on %q, title %q", labels, lang, focused, title)
	}
	path := filepath.Join(artifactDir(t), "login-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("login page screenshot: %s", path)

	// A wrong password: the error is announced, focus moves to the password.
	run("a wrong password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")),
	)
	alert := value(t, bctx, chromedp.Text(chromedp.CSS("[role=alert]")))
	focused = value(t, bctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if alert != "The username or password is incorrect." || focused != "password" {
		t.Fatalf("after a wrong password: alert %q, focus on %q", alert, focused)
	}
	// Signing in lands on the client with the code, state and iss.
	run("sign in",
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	)
	cb := rp.wait(t, "/callback")
	if cb.Get("state") != "state-123" || cb.Get("iss") != issuer || cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}

	// The exchange with the PKCE verifier; the ID token checked by go-oidc
	// against the live JWKS.
	tok, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idv := provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{oidc.EdDSA}})
	id, err := idv.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	if id.Nonce != "nonce-456" || id.Subject != "user-alice" {
		t.Fatalf("ID token nonce %q subject %q", id.Nonce, id.Subject)
	}
	if err := id.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var claims struct {
		AuthTime int64  `json:"auth_time"`
		Sid      string `json:"sid"`
	}
	if err := id.Claims(&claims); err != nil || claims.AuthTime == 0 || claims.Sid == "" {
		t.Fatalf("claims %+v %v", claims, err)
	}

	// userinfo.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "user-alice" || ui.Email != "alice@example.com" || !ui.EmailVerified {
		t.Fatalf("userinfo %+v", ui)
	}

	// The client's own page (the callback, on the client's origin) calls
	// userinfo from JavaScript. The Authorization header makes Chromium
	// preflight; it lets the page read the answer only because the client
	// lists that origin. Introspection sends no CORS headers: blocked.
	xhr := func(method, u, header, body string) string {
		js := fmt.Sprintf(`(() => { try {
			const x = new XMLHttpRequest(); x.open(%q, %q, false);
			if (%q) x.setRequestHeader("Authorization", %q);
			x.send(%q); return x.status + " " + x.responseText;
		} catch (e) { return "blocked: " + e.name; } })()`, method, u, header, header, body)
		return value(t, bctx, chromedp.Evaluate[string](js))
	}
	if got := xhr("GET", issuer+server.PathUserinfo, "Bearer "+tok.AccessToken, ""); !strings.HasPrefix(got, "200 {") || !strings.Contains(got, `"sub":"user-alice"`) {
		t.Fatalf("userinfo from the client's page: %s", got)
	}
	if got := xhr("POST", issuer+server.PathIntrospect, "", "token=x"); got != "blocked: NetworkError" {
		t.Fatalf("introspection from the client's page: %s, want blocked", got)
	}

	// Refresh: a new refresh token each time.
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := conf.TokenSource(ctx, &old).Token()
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken || refreshed.AccessToken == tok.AccessToken {
		t.Fatalf("refresh did not rotate")
	}
	if _, err := conf.TokenSource(ctx, &old).Token(); err == nil {
		t.Fatal("the rotated-out refresh token still works")
	}

	// Revocation (RFC 7009) of a second family's refresh token.
	run("sign-in again (single sign-on)", chromedp.Navigate(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier))))
	cb = rp.wait(t, "/callback")
	tok2, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(issuer+server.PathRevocation, url.Values{"client_id": {clientID}, "token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revocation: %d", resp.StatusCode)
	}
	tok2.Expiry = time.Now().Add(-time.Minute)
	if _, err := conf.TokenSource(ctx, tok2).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("a revoked refresh token: %v", err)
	}

	// RP-initiated logout, then prompt=none finds no session.
	logout := issuer + server.PathEndSession + "?" + url.Values{"id_token_hint": {rawID},
		"post_logout_redirect_uri": {rp.srv.URL + "/bye"}, "state": {"bye-1"}}.Encode()
	run("log out", chromedp.Navigate(logout))
	if bye := rp.wait(t, "/bye"); bye.Get("state") != "bye-1" {
		t.Fatalf("post-logout redirect %v", bye)
	}
	run("prompt=none after logout", chromedp.Navigate(conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"))))
	if cb := rp.wait(t, "/callback"); cb.Get("error") != "login_required" || cb.Get("state") != "s3" {
		t.Fatalf("after logout: %v", cb)
	}
}

// runner returns a function that runs steps in the browser, failing the
// test with what they were for.
func runner(t *testing.T, bctx context.Context) func(what string, steps ...chromedp.Action[chromedp.Void]) {
	return func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// value runs an action that reads something from the page.
func value[T any](t *testing.T, bctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
