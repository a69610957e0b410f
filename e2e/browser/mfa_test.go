package browser

import (
	"bytes"
	"context"
	"image"
	_ "image/png" // screenshots
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	goqr "github.com/piglig/go-qr"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/mfa"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
)

// withTOTP gives Signet a second factor and makes the client require it.
func withTOTP(t *testing.T) func(*server.Config) {
	return func(c *server.Config) {
		sealer, err := seal.New([][]byte{[]byte("browser-test protection secret!!")})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mfa.New(mfa.Config{Store: c.Grants.(mfa.Store), Sealer: sealer, Issuer: "Signet browser test"})
		if err != nil {
			t.Fatal(err)
		}
		c.MFA.Manager = m
		c.Clients[0].RequireMFA = true
	}
}

// TestBrowserTOTP: in Chromium, a client with requireMfa: after the
// password alice enrols (the QR code, read back from a screenshot of the
// page, holds the key shown beside it), confirms with a code computed
// from that key, sees her recovery codes and lands on the client with
// amr [pwd otp mfa]; a later sign-in asks for a code (no enrolment), and
// another takes a recovery code.
func TestBrowserTOTP(t *testing.T) {
	exe := findChromium(t)
	rp := newRelyingParty(t)
	issuer := startSignet(t, rp, withTOTP(t))
	bctx := newBrowser(t, exe)
	run := runner(t, bctx)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile"}}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	authURL := func(state string) string {
		return conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "login"))
	}
	signInPassword := func(what, state string) {
		t.Helper()
		run(what,
			chromedp.Navigate(authURL(state)),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS("button[type=submit]")),
		)
	}
	idToken := func(state string) map[string]any {
		t.Helper()
		cb := rp.wait(t, "/callback")
		if cb.Get("state") != state || cb.Get("code") == "" {
			t.Fatalf("callback %v", cb)
		}
		tok, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		id, err := provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{oidc.EdDSA}}).Verify(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := id.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	checkMFA := func(what string, c map[string]any) {
		t.Helper()
		var amr []string
		for _, v := range c["amr"].([]any) {
			amr = append(amr, v.(string))
		}
		if !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || c["acr"] != server.ACRMultiFactor {
			t.Fatalf("%s: amr %v acr %v", what, amr, c["acr"])
		}
	}
	shoot := func(name string) {
		t.Helper()
		path := filepath.Join(artifactDir(t), name)
		if err := os.WriteFile(path, value(t, bctx, chromedp.FullScreenshot(100)), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// Enrolment, on a phone.
	run("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	signInPassword("password before the enrolment", "enrol")
	run("the enrolment page", chromedp.WaitVisible(chromedp.ID("totp-key")))
	key := strings.ReplaceAll(value(t, bctx, chromedp.Text(chromedp.ID("totp-key"))), " ", "")
	if w := value(t, bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Fatalf("the enrolment page is %d CSS pixels wide on a 390-pixel phone", w)
	}
	a11y := value(t, bctx, chromedp.Evaluate[string](`(() => { const c = document.getElementById('code');
		return [document.activeElement.id, c.getAttribute('autocomplete'), c.getAttribute('inputmode'),
			document.querySelectorAll('label[for=code]').length, document.querySelector('figure svg[role=img] title') ? 'titled' : 'untitled',
			document.title].join('|') })()`))
	if a11y != "code|one-time-code|numeric|1|titled|Set up two-step verification · Signet" {
		t.Fatalf("enrolment page: %s", a11y)
	}
	shoot("mfa-enrol-phone.png")
	// The QR code, as a phone's camera would read it from the screen.
	png := value(t, bctx, chromedp.Screenshot(chromedp.CSS("figure svg")))
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	text, err := goqr.Decode(img)
	if err != nil {
		t.Fatalf("the QR code on the page does not decode: %v", err)
	}
	u, err := url.Parse(text)
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != key || !strings.Contains(u.Path, username) {
		t.Fatalf("the QR code holds %q; the page shows the key %q", text, key)
	}

	// A wrong code, then the right one.
	run("a wrong code",
		chromedp.SendKeys(chromedp.ID("code"), "000000"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")),
	)
	now := time.Now()
	code, err := mfa.Code(key, now)
	if err != nil {
		t.Fatal(err)
	}
	if code == "000000" {
		t.Skip("the right code is 000000 at this instant")
	}
	run("the right code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")),
	)
	recovery := value(t, bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#recovery-codes code')].map(c => c.textContent)`))
	if len(recovery) != mfa.RecoveryCodes {
		t.Fatalf("recovery codes %v", recovery)
	}
	shoot("mfa-recovery-codes-phone.png")
	run("continue", chromedp.Click(chromedp.CSS("button[type=submit]")))
	checkMFA("after the enrolment", idToken("enrol"))

	// A later sign-in (desktop): the code page, a code of the next step
	// (the enrolment's is used up).
	run("desktop", chromedp.EmulateViewport(1280, 800))
	signInPassword("password before a code", "code")
	run("the code page", chromedp.WaitVisible(chromedp.ID("code")))
	if n := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('#totp-key').length`)); n != 0 {
		t.Fatal("an enrolled user was asked to enrol again")
	}
	shoot("mfa-code-desktop.png")
	next, err := mfa.Code(key, now.Add(mfa.Period))
	if err != nil {
		t.Fatal(err)
	}
	run("a code",
		chromedp.SendKeys(chromedp.ID("code"), next),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	)
	checkMFA("with a code", idToken("code"))

	// A recovery code.
	signInPassword("password before a recovery code", "recovery")
	run("a recovery code",
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.Click(chromedp.CSS("details summary")),
		chromedp.WaitVisible(chromedp.ID("recovery-code")),
		chromedp.SendKeys(chromedp.ID("recovery-code"), recovery[0]),
		chromedp.Click(chromedp.CSS("details button[type=submit]")),
	)
	checkMFA("with a recovery code", idToken("recovery"))
}
