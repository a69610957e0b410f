package browser

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/server"
)

// TestBrowserPasskey: in Chromium with a virtual authenticator (CTAP2,
// internal, resident keys, user verification), a client with
// requireMfa: after the password alice adds a passkey on the enrolment
// page and lands on the client with amr [pwd hwk mfa]; a later sign-in
// asks for the second factor and she uses the passkey (the
// authenticator's counter moves on). The issuer is on localhost: an IP
// address is not a valid WebAuthn RP ID.
func TestBrowserPasskey(t *testing.T) {
	exe := findChromium(t)
	rp := newRelyingParty(t)
	issuer := startSignetAt(t, "localhost", rp, withTOTP(t))
	bctx := newBrowser(t, exe)
	run := runner(t, bctx)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID}}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	signInPassword := func(what, state string) {
		t.Helper()
		run(what,
			chromedp.Navigate(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "login"))),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS("button[type=submit]")),
		)
	}
	checkAMR := func(what, state string) {
		t.Helper()
		cb := rp.wait(t, "/callback")
		if cb.Get("state") != state || cb.Get("code") == "" {
			t.Fatalf("%s: callback %v", what, cb)
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
		var c struct {
			AMR []string `json:"amr"`
			ACR string   `json:"acr"`
		}
		if err := id.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.AMR, []string{"pwd", "hwk", "mfa"}) || c.ACR != server.ACRMultiFactor {
			t.Fatalf("%s: amr %v acr %v", what, c.AMR, c.ACR)
		}
	}

	var authenticator webauthn.AuthenticatorID
	credentials := func() []*webauthn.Credential {
		t.Helper()
		var out []*webauthn.Credential
		run("the authenticator's credentials", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			res, err := cdp.Call(ctx, tg, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authenticator})
			out = res.Credentials
			return err
		}))
		return out
	}

	signInPassword("password before the enrolment", "enrol")
	run("the enrolment page", chromedp.WaitVisible(chromedp.ID("totp-key")))
	run("a virtual authenticator",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
				return err
			}
			res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true,
				AutomaticPresenceSimulation: true}}) // cdproto sends false unless set
			authenticator = res.AuthenticatorID
			return err
		}),
	)
	run("add a passkey",
		chromedp.WaitEnabled(chromedp.CSS("#passkey-form button[data-passkey]")),
		chromedp.Click(chromedp.CSS("#passkey-form button[data-passkey]")),
	)
	checkAMR("after adding a passkey", "enrol")
	creds := credentials()
	if len(creds) != 1 || creds[0].RpID != "localhost" {
		t.Fatalf("credentials after the registration: %+v", creds)
	}
	before := creds[0].SignCount

	signInPassword("password before the passkey", "passkey")
	run("use the passkey",
		chromedp.WaitEnabled(chromedp.CSS("#passkey-form button[data-passkey]")),
		chromedp.Click(chromedp.CSS("#passkey-form button[data-passkey]")),
	)
	checkAMR("with the passkey", "passkey")
	if creds := credentials(); len(creds) != 1 || creds[0].SignCount <= before {
		t.Fatalf("credentials after the sign-in: %+v (count before %v)", creds, before)
	}
}
