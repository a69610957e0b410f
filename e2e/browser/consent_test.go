package browser

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/server"
)

// TestBrowserConsent drives the consent page in Chromium: deny (the client
// gets access_denied), approve without and with remembering, remembered
// consent (no page), prompt=consent, revoking on the account page (asked
// again), sign-out; every page checked by axe-core and photographed on a
// phone and a desktop.
func TestBrowserConsent(t *testing.T) {
	d := newDriver(t)
	rp := newRelyingParty(t)
	issuer := startSignet(t, rp, func(c *server.Config) {
		c.Clients[0].RequireConsent = true
		c.Clients[0].AllowRememberConsent = true
		c.Clients[0].DisplayName = "Example Portal"
		c.Clients[0].LogoURI = logoDataURI(t)
		c.Clients[0].ClientURI = rp.srv.URL
	})
	conf := oauth2.Config{ClientID: clientID, Endpoint: oauth2.Endpoint{AuthURL: issuer + server.PathAuthorize, TokenURL: issuer + server.PathToken, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: rp.srv.URL + "/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	authURL := func(state string, extra ...oauth2.AuthCodeOption) string {
		return conf.AuthCodeURL(state, append(extra, oauth2.S256ChallengeOption(verifier))...)
	}

	// The login page with the client's name, logo and link.
	d.run("open the login page", d.phone(), chromedp.Navigate(authURL("deny-1")), chromedp.WaitVisible(chromedp.ID("username")))
	if got := strings.TrimSpace(d.text("p.client")); got != "to continue to Example Portal" {
		t.Fatalf("login page names the client %q", got)
	}
	if w := value(t, d.bctx, chromedp.Evaluate[int](`document.querySelector("p.client img").naturalWidth`)); w != 48 {
		t.Fatalf("the logo did not load (natural width %d): the CSP must allow it", w)
	}
	d.page("login", "Sign in · Signet")
	d.run("a wrong password",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")))
	d.page("login-error", "Sign in · Signet")

	// Signing in leads to the consent page; deny.
	d.run("sign in", chromedp.SendKeys(chromedp.ID("password"), password), chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)))
	if miss := containsAll(d.text("main"), "Example Portal asks to:", "See your email address", "Keep access while you are away",
		"You are signed in as alice", "Remember my decision for Example Portal"); miss != "" {
		t.Fatalf("consent page lacks %q:\n%s", miss, d.text("main"))
	}
	if focused := value(t, d.bctx, chromedp.Evaluate[string](`document.activeElement.value`)); focused != "approve" {
		t.Fatalf("focus on %q, want the Allow button", focused)
	}
	d.page("consent", "Allow access? · Signet")
	d.run("deny", chromedp.Click(chromedp.CSS(`button[value=deny]`)), landed())
	if cb := rp.wait(t, "/callback"); cb.Get("error") != "access_denied" || cb.Get("state") != "deny-1" || cb.Get("code") != "" {
		t.Fatalf("deny: %v", cb)
	}

	// Approve without remembering: a code, and the page again next time.
	d.run("approve once", chromedp.Navigate(authURL("once")), chromedp.WaitVisible(chromedp.ID("remember")),
		chromedp.Click(chromedp.ID("remember")), chromedp.Click(chromedp.CSS(`button[value=approve]`)), landed())
	cb := rp.wait(t, "/callback")
	if cb.Get("code") == "" || cb.Get("state") != "once" {
		t.Fatalf("approve: %v", cb)
	}
	if _, err := conf.Exchange(t.Context(), cb.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange of the approved code: %v", err)
	}
	// Approve and remember (the box is checked by default).
	d.run("approve and remember", chromedp.Navigate(authURL("remember")), chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)),
		chromedp.Click(chromedp.CSS(`button[value=approve]`)), landed())
	if cb := rp.wait(t, "/callback"); cb.Get("code") == "" || cb.Get("state") != "remember" {
		t.Fatalf("approve and remember: %v", cb)
	}
	// Remembered: no page; prompt=none works.
	d.run("remembered", chromedp.Navigate(authURL("remembered", oauth2.SetAuthURLParam("prompt", "none"))))
	if cb := rp.wait(t, "/callback"); cb.Get("code") == "" || cb.Get("state") != "remembered" {
		t.Fatalf("remembered consent: %v", cb)
	}
	// prompt=consent shows the page anyway.
	d.run("prompt=consent", chromedp.Navigate(authURL("forced", oauth2.SetAuthURLParam("prompt", "consent"))),
		chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)), chromedp.Click(chromedp.CSS(`button[value=approve]`)), landed())
	if cb := rp.wait(t, "/callback"); cb.Get("code") == "" || cb.Get("state") != "forced" {
		t.Fatalf("prompt=consent: %v", cb)
	}

	// The account page lists it; revoking it makes the page ask again.
	d.run("account page", chromedp.Navigate(issuer+server.PathAccount), chromedp.WaitVisible(chromedp.CSS("section.consent")))
	if miss := containsAll(d.text("main"), "Example Portal", "See your email address", "Revoke access for Example Portal"); miss != "" {
		t.Fatalf("account page lacks %q", miss)
	}
	d.page("account", "Your account · Signet")
	d.run("revoke", chromedp.Click(chromedp.CSS("section.consent button")), chromedp.WaitVisible(chromedp.CSS("[role=status]")))
	if got := d.text("[role=status]"); got != "Access for Example Portal was revoked. It will ask you again next time." {
		t.Fatalf("after revoking: %q", got)
	}
	d.page("account-revoked", "Your account · Signet")
	d.run("asked again", chromedp.Navigate(authURL("again", oauth2.SetAuthURLParam("prompt", "none"))))
	if cb := rp.wait(t, "/callback"); cb.Get("error") != "consent_required" {
		t.Fatalf("after revoking, prompt=none: %v", cb)
	}

	// Sign-out: the confirmation page, then the signed-out page.
	d.run("sign out?", chromedp.Navigate(issuer+server.PathEndSession), chromedp.WaitVisible(chromedp.CSS("button[type=submit]")))
	d.page("logout", "Sign out? · Signet")
	d.run("sign out", chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("[role=status]")))
	d.page("signed-out", "Signed out · Signet")
	d.run("account page signed out", chromedp.Navigate(issuer+server.PathAccount), chromedp.WaitVisible(chromedp.CSS("main p")))
	d.page("account-signed-out", "Your account · Signet")
	// An error page: a request for an unknown client.
	d.run("error page", chromedp.Navigate(issuer+server.PathAuthorize+"?"+url.Values{"client_id": {"nobody"}, "response_type": {"code"}}.Encode()),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")))
	d.page("error", "This sign-in request is not valid · Signet")
}

// TestBrowserCustomTemplate: an operator's login template, product name
// and style sheet, in Chromium: the page is theirs, the style sheet
// applies under the CSP (its hash), and signing in through it works.
func TestBrowserCustomTemplate(t *testing.T) {
	d := newDriver(t)
	rp := newRelyingParty(t)
	dir := t.TempDir()
	login := `{{template "head" .}}{{with .Page}}<p class="welcome">Welcome to Acme. Sign in to continue to {{.Client.Name}}.</p>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.Request}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="username">Acme username</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in to Acme</button></form>{{end}}{{template "foot" .}}`
	if err := os.WriteFile(filepath.Join(dir, "login.html"), []byte(login), 0o644); err != nil {
		t.Fatal(err)
	}
	css := `main{border-top:6px solid #6d28d9}.welcome{font-weight:600}button{background:#6d28d9}`
	issuer := startSignet(t, rp, func(c *server.Config) {
		c.Clients[0].DisplayName = "Example Portal"
		c.UI = server.UI{ProductName: "Acme ID", Templates: os.DirFS(dir), TemplatesDir: dir, Stylesheet: css}
	})
	conf := oauth2.Config{ClientID: clientID, Endpoint: oauth2.Endpoint{AuthURL: issuer + server.PathAuthorize}, RedirectURL: rp.srv.URL + "/callback", Scopes: []string{oidc.ScopeOpenID}}
	d.run("open the custom login page", d.phone(), chromedp.Navigate(conf.AuthCodeURL("custom", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))),
		chromedp.WaitVisible(chromedp.ID("username")))
	if got := d.text("p.welcome"); got != "Welcome to Acme. Sign in to continue to Example Portal." {
		t.Fatalf("custom page text %q", got)
	}
	if border := value(t, d.bctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("main")).borderTopColor`)); border != "rgb(109, 40, 217)" {
		t.Fatalf("the operator's style sheet does not apply (border %q): the CSP must allow it", border)
	}
	d.page("custom-login", "Sign in · Acme ID")
	d.run("sign in through it", chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")), landed())
	if cb := rp.wait(t, "/callback"); cb.Get("code") == "" || cb.Get("state") != "custom" {
		t.Fatalf("sign-in through the custom page: %v", cb)
	}
}

// landed waits until the browser shows the relying party's page (after a
// click that sends it there), so the next navigation does not abort it.
func landed() chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.ID("done")) }
