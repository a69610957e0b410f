package browser

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/connector/ldap"
	"github.com/signet-id/signet/connector/ldap/ldaptest"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server"
)

// TestBrowserLDAPLogin: a person signs in to a Signet that has no users
// of its own through its LDAP connector (the CI's slapd, .ci/ldap.sh):
// the login page shows the directory's button, the button its form, a
// wrong password the form again; the client's ID token names the
// namespaced subject with amr pwd, and userinfo has the directory's
// claims and groups.
func TestBrowserLDAPLogin(t *testing.T) {
	exe := findChromium(t)
	d := ldaptest.Open(t)
	rp := newRelyingParty(t)
	dir, err := ldap.New(ldap.Config{ID: "corp", Name: "Acme directory", URL: d.LDAPSURL, CAFile: d.CA,
		BindDN: d.BindDN, BindPassword: d.BindPassword,
		UserSearch: ldap.UserSearch{BaseDN: "ou=people," + d.BaseDN, Filter: "(objectClass=inetOrgPerson)",
			Username: "uid", IDAttr: "entryUUID", EmailAttr: "mail", NameAttr: "cn"},
		GroupSearch: ldap.GroupSearch{BaseDN: "ou=groups," + d.BaseDN, Filter: "(objectClass=groupOfNames)",
			UserMatchers: []ldap.UserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn"},
	}, ldap.Options{Store: connector.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	set, err := connector.NewSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	issuer := startServer(t, "", func(issuer string, m *keymanager.Manager, store *memstore.Store) server.Config {
		return server.Config{Issuer: issuer, Keys: m, Grants: store, Connectors: set,
			Clients: []server.Client{{ID: clientID, Public: true, GrantTypes: []string{"authorization_code"},
				IdentityScopes: []string{"openid", "profile", "email"}, RedirectURIs: []string{rp.srv.URL + "/callback"},
				AccessTokenLifetime: 10 * time.Minute}}}
	})

	f := newConnectorFlow(t, exe, rp, issuer)
	bctx, ctx, run, provider := f.bctx, f.ctx, f.run, f.provider

	run("open the login page",
		chromedp.Navigate(f.authURL("state-ldap", "nonce-ldap")),
		chromedp.WaitVisible(chromedp.CSS(`button[name=connector][value=corp]`)))
	if label := value(t, bctx, chromedp.Text(chromedp.CSS(`button[name=connector][value=corp]`))); label != "Sign in with Acme directory" {
		t.Fatalf("button %q", label)
	}
	run("the directory's button leads to its form",
		chromedp.Click(chromedp.CSS(`button[name=connector][value=corp]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	if title := value(t, bctx, chromedp.Title()); title != "Sign in with Acme directory · Signet" {
		t.Fatalf("form title %q", title)
	}
	shot := value(t, bctx, chromedp.FullScreenshot(100))
	path := filepath.Join(artifactDir(t), "ldap-login-form.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("LDAP form screenshot: %s", path)
	run("a wrong password shows the form again",
		chromedp.SendKeys(chromedp.ID("username"), "bob"),
		chromedp.SendKeys(chromedp.ID("password"), "not-bobs-password"),
		chromedp.Click(chromedp.CSS("button[type=submit]:not([name])")),
		chromedp.WaitVisible(chromedp.ID("form-error")))
	run("the right password",
		chromedp.SendKeys(chromedp.ID("password"), "bob-password"),
		chromedp.Click(chromedp.CSS("button[type=submit]:not([name])")))
	tok, id, amr := f.finish(rp.wait(t, "/callback"), "state-ldap")
	if id.Subject != "corp:"+d.EntryUUID(t, "bob") || id.Nonce != "nonce-ldap" || !slices.Equal(amr, []string{"pwd"}) {
		t.Fatalf("ID token sub %q nonce %q amr %v", id.Subject, id.Nonce, amr)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Email != "bob@signet.test" || !ui.EmailVerified {
		t.Fatalf("userinfo %+v %v", ui, err)
	}
	var more struct {
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
	}
	if err := ui.Claims(&more); err != nil || more.Name != "Bob Builder" || !slices.Equal(more.Groups, []string{"developers", "ops (night)*"}) {
		t.Fatalf("userinfo name %q groups %q (%v)", more.Name, more.Groups, err)
	}
}
