package browser

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/connector"
	connectoroidc "github.com/signet-id/signet/connector/oidc"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
)

// TestBrowserConnectorLogin: a person signs in to a Signet that has no
// users of its own, through its OpenID Connect connector, at a second
// Signet (the upstream, on "localhost", with alice). The downstream's
// page shows only the connector's button; the upstream's page takes the
// password; the client gets the downstream's code, and its ID token names
// the namespaced subject with amr fed.
func TestBrowserConnectorLogin(t *testing.T) {
	exe := findChromium(t)
	rp := newRelyingParty(t)
	const upClient, upSecret = "downstream", "downstream-secret-0123456789"
	var downIssuer string
	// The upstream learns the downstream's callback once the downstream
	// is listening; its clients are set after.
	var up *server.Server
	upIssuer := startServer(t, "localhost", func(issuer string, m *keymanager.Manager, store *memstore.Store) server.Config {
		return server.Config{Issuer: issuer, Keys: m, Grants: store,
			Users: []server.User{{Subject: "user-alice", Username: username, Password: cheapHash(t, password),
				Claims: map[string]any{"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true}}}}
	}, func(s *server.Server) { up = s })
	sealer, err := seal.New([][]byte{[]byte("browser-connector-secret-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	corp, err := connectoroidc.New(connectoroidc.Config{ID: "corp", Name: "Acme SSO", Issuer: upIssuer, ClientID: upClient, ClientSecret: upSecret,
		Scopes: []string{"openid", "profile", "email", "offline_access"}, Store: connector.NewMemoryStore(), Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	set, err := connector.NewSet(corp)
	if err != nil {
		t.Fatal(err)
	}
	downIssuer = startServer(t, "", func(issuer string, m *keymanager.Manager, store *memstore.Store) server.Config {
		return server.Config{Issuer: issuer, Keys: m, Grants: store, Connectors: set,
			Clients: []server.Client{{ID: clientID, Public: true, GrantTypes: []string{"authorization_code"},
				IdentityScopes: []string{"openid", "profile", "email"}, RedirectURIs: []string{rp.srv.URL + "/callback"},
				AccessTokenLifetime: 10 * time.Minute}}}
	})
	sec, err := clientauth.ParseSecret("plain:" + upSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.SetClients([]server.Client{{ID: upClient, Secrets: []*clientauth.Secret{sec},
		GrantTypes: []string{"authorization_code", "refresh_token"}, IdentityScopes: []string{"openid", "profile", "email", "offline_access"},
		RedirectURIs: []string{downIssuer + server.PathLogin + "/corp/callback"}, AccessTokenLifetime: 10 * time.Minute, RefreshTokenLifetime: time.Hour}}, nil); err != nil {
		t.Fatal(err)
	}

	f := newConnectorFlow(t, exe, rp, downIssuer)
	bctx, ctx, run, provider := f.bctx, f.ctx, f.run, f.provider

	run("open the downstream's login page",
		chromedp.Navigate(f.authURL("state-fed", "nonce-fed")),
		chromedp.WaitVisible(chromedp.CSS(`button[name=connector][value=corp]`)))
	label := value(t, bctx, chromedp.Text(chromedp.CSS(`button[name=connector][value=corp]`)))
	fields := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('#username, #password').length`))
	if label != "Sign in with Acme SSO" || fields != 0 {
		t.Fatalf("downstream login page: button %q, %d password fields (no local users: want none)", label, fields)
	}
	run("the connector's button leads to the upstream's login page",
		chromedp.Click(chromedp.CSS(`button[name=connector][value=corp]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	if loc := value(t, bctx, chromedp.Location()); len(loc) < len(upIssuer) || loc[:len(upIssuer)] != upIssuer {
		t.Fatalf("after the button the browser is at %s, want the upstream %s", loc, upIssuer)
	}
	run("sign in at the upstream",
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")))
	tok, id, amr := f.finish(rp.wait(t, "/callback"), "state-fed")
	if id.Subject != "corp:user-alice" || id.Nonce != "nonce-fed" || len(amr) != 1 || amr[0] != "fed" {
		t.Fatalf("ID token sub %q nonce %q amr %v", id.Subject, id.Nonce, amr)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Email != "alice@example.com" || !ui.EmailVerified {
		t.Fatalf("userinfo %+v %v: the upstream's claims", ui, err)
	}
}
