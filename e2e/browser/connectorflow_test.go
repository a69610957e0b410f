package browser

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// connectorFlow is a browser and the public client of the connector
// tests (openid profile email) at issuer.
type connectorFlow struct {
	t        *testing.T
	bctx     context.Context // the browser
	ctx      context.Context // the client's calls
	run      func(what string, steps ...chromedp.Action[chromedp.Void])
	issuer   string
	provider *oidc.Provider
	conf     oauth2.Config
	verifier string
}

func newConnectorFlow(t *testing.T, exe string, rp *relyingParty, issuer string) *connectorFlow {
	bctx := newBrowser(t, exe)
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	t.Cleanup(cancel)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	f := &connectorFlow{t: t, bctx: bctx, ctx: ctx, run: runner(t, bctx), issuer: issuer, provider: provider,
		conf: oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
			Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
		verifier: oauth2.GenerateVerifier()}
	f.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	return f
}

// authURL is the authorization request with state and nonce.
func (f *connectorFlow) authURL(state, nonce string) string {
	return f.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(nonce))
}

// finish checks the callback cb (state, iss), redeems its code and
// verifies the ID token; it returns the tokens, the ID token and its amr.
func (f *connectorFlow) finish(cb map[string][]string, state string) (*oauth2.Token, *oidc.IDToken, []string) {
	t := f.t
	get := func(k string) string {
		if v := cb[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if get("state") != state || get("iss") != f.issuer || get("code") == "" {
		t.Fatalf("callback %v", cb)
	}
	tok, err := f.conf.Exchange(f.ctx, get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	id, err := f.provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(f.ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, id, claims.AMR
}
