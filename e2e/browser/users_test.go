package browser

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// A user kept in the store signs in in a real browser, gets the address,
// phone and groups claims at userinfo, and once disabled (as signet users
// disable does) their refresh token is refused and the browser's session
// no longer signs them in: the next authorization shows the login page.
func TestBrowserStoreUserDisabled(t *testing.T) {
	exe := findChromium(t)
	rp := newRelyingParty(t)
	ctx := t.Context()
	store := memstore.New()
	m := managedKeys(t, store, key.ES256)
	policy := &userstore.Policy{Argon2: userstore.Argon2{MemoryKiB: 8, Iterations: 1, Parallelism: 1}}
	hash, err := policy.Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(ctx, userstore.Record{Subject: "store-carol", Username: "carol", PasswordHash: hash,
		Claims: map[string]any{"address": map[string]any{"locality": "Oxford", "country": "UK"}, "phone_number": "+44 1865 000000",
			"phone_number_verified": true, "groups": []any{"staff"}}, Created: time.Now(), Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	hashing := throttle.NewHashing(0, 0)
	static, err := server.NewStaticUsers(nil, hashing)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	s, err := server.New(server.Config{
		Issuer: issuer, Keys: m, Grants: store, Hashing: hashing,
		Clients: []server.Client{{
			ID: clientID, Public: true, GrantTypes: []string{"authorization_code", "refresh_token"},
			IdentityScopes:      []string{"openid", "address", "phone", "groups", "offline_access"},
			RedirectURIs:        []string{rp.srv.URL + "/callback"},
			AccessTokenLifetime: 10 * time.Minute, RefreshTokenLifetime: time.Hour,
		}},
		UserSource: user.Chain{static, &userstore.Source{Store: store, Policy: policy, Hashing: hashing}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s
	ts.Start()
	t.Cleanup(ts.Close)

	bctx := newBrowser(t, exe)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: clientID, Endpoint: provider.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "address", "phone", "groups", oidc.ScopeOfflineAccess}}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	run("sign in as a store user",
		chromedp.Navigate(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "carol"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")))
	cb := rp.wait(t, "/callback")
	tok, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Address struct{ Locality, Country string }
		Phone   string   `json:"phone_number"`
		PhoneOK bool     `json:"phone_number_verified"`
		Groups  []string `json:"groups"`
	}
	if err := ui.Claims(&claims); err != nil || ui.Subject != "store-carol" || claims.Address.Locality != "Oxford" ||
		claims.Phone != "+44 1865 000000" || !claims.PhoneOK || len(claims.Groups) != 1 {
		t.Fatalf("userinfo %s %+v %v", ui.Subject, claims, err)
	}

	// Disabled: the refresh token is refused, the session is gone.
	if _, err := store.DisableUser(ctx, "store-carol", time.Now()); err != nil {
		t.Fatal(err)
	}
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	if _, err := conf.TokenSource(ctx, &old).Token(); err == nil {
		t.Fatal("a disabled user's refresh token still works")
	}
	run("authorize again after disable",
		chromedp.Navigate(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(chromedp.ID("username")))
	run("a disabled user cannot sign in",
		chromedp.SendKeys(chromedp.ID("username"), "carol"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")))
	shot := value(t, bctx, chromedp.FullScreenshot(100))
	path := filepath.Join(artifactDir(t), "login-disabled-user.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
}
