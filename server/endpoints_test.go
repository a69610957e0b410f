package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/keystore/memstore"
)

func TestUserinfo(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	get := func(scope string) string {
		code := e.callback(b.authorize(spaRequest("scope", scope)), spaRedirect).Get("code")
		return e.tokens(e.exchange(code, verifierForSPA)).AccessToken
	}
	for scope, want := range map[string]string{
		"openid":         `{"sub":"user-alice"}`,
		"openid profile": `{"given_name":"Alice","name":"Alice Liddell","sub":"user-alice"}`,
		"openid email":   `{"email":"alice@example.com","email_verified":true,"sub":"user-alice"}`,
	} {
		if p := e.userinfo(get(scope)); p.StatusCode != 200 || p.body != want || p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("scope %q: %d %s", scope, p.StatusCode, p.body)
		}
	}
	// POST works too.
	at := get("openid")
	req, _ := http.NewRequest("POST", e.issuer+PathUserinfo, nil)
	req.Header.Set("Authorization", "bearer "+at)
	if p := e.do(nil, req); p.StatusCode != 200 {
		t.Errorf("POST: %d", p.StatusCode)
	}

	challenge := func(p page, status int, want string) {
		t.Helper()
		if p.StatusCode != status || p.Header.Get("WWW-Authenticate") != want {
			t.Errorf("%d %q, want %d %q", p.StatusCode, p.Header.Get("WWW-Authenticate"), status, want)
		}
	}
	challenge(e.userinfo(""), 401, `Bearer realm="signet"`)
	challenge(e.userinfo("not-a-token"), 401, `Bearer realm="signet", error="invalid_token", error_description="the access token is invalid or expired"`)
	// A token without openid (a reports-only token, or a client_credentials one).
	challenge(e.userinfo(get("reports.read")), 403, `Bearer realm="signet", error="insufficient_scope", error_description="the access token was not granted the openid scope", scope="openid"`)
	cc := decode[tokenResponse](t, post(e.s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"poster", "poster-secret"}).Body.Bytes())
	challenge(e.userinfo(cc.AccessToken), 403, `Bearer realm="signet", error="insufficient_scope", error_description="the access token was not granted the openid scope", scope="openid"`)
	// A token signed by a key not in the JWKS.
	forged := mustKey(t, "es-1", "ES256", newFakeKeys(t).keys["ES256"].Signer())
	tok, _ := signJSON(forged, "at+jwt", userAccessClaims{Iss: e.issuer, Sub: aliceSub, Exp: testNow.Unix() + 60, Jti: "j", Scope: "openid"})
	challenge(e.userinfo(tok), 401, `Bearer realm="signet", error="invalid_token", error_description="the access token is invalid or expired"`)
	// An ID token is not an access token.
	code := e.callback(b.authorize(spaRequest()), spaRedirect).Get("code")
	tr := e.tokens(e.exchange(code, verifierForSPA))
	challenge(e.userinfo(tr.IDToken), 401, `Bearer realm="signet", error="invalid_token", error_description="the access token is invalid or expired"`)
	// Expired.
	e.clock.Add(10 * time.Minute)
	challenge(e.userinfo(tr.AccessToken), 401, `Bearer realm="signet", error="invalid_token", error_description="the access token is invalid or expired"`)
}

func TestIntrospection(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	code := e.callback(b.authorize(spaRequest("scope", "openid offline_access reports.read orders.read")), spaRedirect).Get("code")
	tr := e.tokens(e.exchange(code, verifierForSPA))
	m := e.introspect(tr.AccessToken)
	// Only the caller's scopes are shown.
	if m["active"] != true || m["scope"] != "reports.read" || m["sub"] != aliceSub || m["client_id"] != "spa" || m["token_type"] != "Bearer" ||
		m["iss"] != e.issuer || m["exp"] != float64(testNow.Unix()+600) {
		t.Fatalf("active token: %v", m)
	}
	// Not for this resource: inactive.
	code = e.callback(b.authorize(spaRequest("scope", "openid orders.read")), spaRedirect).Get("code")
	if m := e.introspect(e.tokens(e.exchange(code, verifierForSPA)).AccessToken); len(m) != 1 || m["active"] != false {
		t.Fatalf("another audience: %v", m)
	}
	// Garbage, the refresh token, the ID token: inactive.
	for _, tok := range []string{"garbage", tr.RefreshToken, tr.IDToken} {
		if m := e.introspect(tok); m["active"] != false {
			t.Fatalf("%q: %v", tok, m)
		}
	}
	// Revoked: inactive.
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr.AccessToken}}); p.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", p.StatusCode, p.body)
	}
	if m := e.introspect(tr.AccessToken); m["active"] != false {
		t.Fatalf("revoked: %v", m)
	}
	// Authentication.
	e.oauthErr(e.token2(PathIntrospect, url.Values{"token": {tr.AccessToken}}), 401, "invalid_client")
	e.oauthErr(e.token2(PathIntrospect, url.Values{"token": {tr.AccessToken}}, "reports", "wrong"), 401, "invalid_client")
	e.oauthErr(e.token2(PathIntrospect, url.Values{"token": {tr.AccessToken}}, "orders", reportsSecret), 401, "invalid_client")
	e.oauthErr(e.token2(PathIntrospect, url.Values{"token": {tr.AccessToken}}, "spa", ""), 401, "invalid_client")
	if p := e.token2(PathIntrospect, url.Values{"token": {tr.AccessToken}, "client_id": {"reports"}, "client_secret": {reportsSecret}}); p.StatusCode != 200 {
		t.Fatalf("client_secret_post: %d", p.StatusCode)
	}
	e.oauthErr(e.token2(PathIntrospect, url.Values{}, "reports", reportsSecret), 400, "invalid_request")
	req, _ := http.NewRequest("GET", e.issuer+PathIntrospect, nil)
	if p := e.do(nil, req); p.StatusCode != 405 {
		t.Fatalf("GET: %d", p.StatusCode)
	}
}

func TestRevocation(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	issue := func() userTokenResponse {
		code := e.callback(b.authorize(spaRequest()), spaRedirect).Get("code")
		return e.tokens(e.exchange(code, verifierForSPA))
	}
	// The access token, by jti; its refresh token stays.
	tr := issue()
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr.AccessToken}, "token_type_hint": {"access_token"}}); p.StatusCode != 200 || p.body != "" {
		t.Fatalf("%d %s", p.StatusCode, p.body)
	}
	if p := e.userinfo(tr.AccessToken); p.StatusCode != 401 {
		t.Fatalf("revoked access token: %d", p.StatusCode)
	}
	tr2 := e.tokens(e.refresh(tr.RefreshToken))
	// The refresh token (with a wrong hint): family and its access token.
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr2.RefreshToken}, "token_type_hint": {"access_token"}}); p.StatusCode != 200 {
		t.Fatalf("%d", p.StatusCode)
	}
	e.oauthErr(e.refresh(tr2.RefreshToken), 400, "invalid_grant")
	if p := e.userinfo(tr2.AccessToken); p.StatusCode != 401 {
		t.Fatalf("access token of a revoked refresh token: %d", p.StatusCode)
	}
	// Another client's token: 200, untouched.
	tr3 := issue()
	if p := e.token2(PathRevocation, url.Values{"token": {tr3.RefreshToken}}, "web", webSecret); p.StatusCode != 200 {
		t.Fatalf("%d", p.StatusCode)
	}
	if p := e.token2(PathRevocation, url.Values{"token": {tr3.AccessToken}}, "web", webSecret); p.StatusCode != 200 {
		t.Fatalf("%d", p.StatusCode)
	}
	e.tokens(e.refresh(tr3.RefreshToken))
	if p := e.userinfo(tr3.AccessToken); p.StatusCode != 200 {
		t.Fatalf("another client revoked our token: %d", p.StatusCode)
	}
	// Unknown tokens: 200. Errors: RFC 6749 5.2.
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {"unknown"}}); p.StatusCode != 200 {
		t.Fatalf("%d", p.StatusCode)
	}
	e.oauthErr(e.token2(PathRevocation, url.Values{"client_id": {"spa"}}), 400, "invalid_request")
	e.oauthErr(e.token2(PathRevocation, url.Values{"token": {"x"}}), 401, "invalid_client")
	e.oauthErr(e.token2(PathRevocation, url.Values{"token": {"x"}}, "web", "wrong"), 401, "invalid_client")
}

func TestEndSession(t *testing.T) {
	e := newLoginEnv(t)
	endsession := func(b *browser, q url.Values) page { return b.get(e.issuer + PathEndSession + "?" + q.Encode()) }
	signedIn := func(b *browser) bool {
		return e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect).Get("code") != ""
	}
	idToken := func(b *browser) string {
		code := e.callback(b.authorize(spaRequest()), spaRedirect).Get("code")
		return e.tokens(e.exchange(code, verifierForSPA)).IDToken
	}

	// Without a hint the user confirms; GET alone does nothing.
	b := e.signedInBrowser()
	p := endsession(b, url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {spaLogout}, "state": {"s"}})
	if p.StatusCode != 200 || !strings.Contains(p.body, "You are signed in as <strong>alice</strong>") || !signedIn(b) {
		t.Fatalf("confirmation page: %d %s", p.StatusCode, p.body)
	}
	confirm := url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {spaLogout}, "state": {"s"}, "csrf": {formCSRF(t, p.body)}}
	// A forged confirmation (no valid token) is refused.
	forged := url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {spaLogout}, "state": {"s"}, "csrf": {"x"}}
	if p := b.post(e.issuer+PathEndSession, forged); p.StatusCode != 403 || !signedIn(b) {
		t.Fatalf("forged confirmation: %d", p.StatusCode)
	}
	if p := b.post(e.issuer+PathEndSession, confirm); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != spaLogout+"?state=s" {
		t.Fatalf("confirmed: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if signedIn(b) {
		t.Fatal("still signed in after confirming")
	}

	// A hint for the signed-in user ends the session at once, even expired.
	b = e.signedInBrowser()
	hint := idToken(b)
	e.clock.Add(time.Hour)
	p = endsession(b, url.Values{"id_token_hint": {hint}})
	if p.StatusCode != 200 || !strings.Contains(p.body, "You are signed out") || signedIn(b) {
		t.Fatalf("with hint: %d %s", p.StatusCode, p.body)
	}
	// A hint for another user asks.
	b = e.signedInBrowser()
	other := e.browser()
	other.signIn(spaRequest(), "bob", bobPassword)
	if p := endsession(b, url.Values{"id_token_hint": {idToken(other)}}); p.StatusCode != 200 || !strings.Contains(p.body, "Sign out?") || !signedIn(b) {
		t.Fatalf("hint of another user: %d %s", p.StatusCode, p.body)
	}

	// Errors: an unregistered URI, a URI without client, a bad hint, a mismatch.
	for name, q := range map[string]url.Values{
		"unregistered":   {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"no client":      {"post_logout_redirect_uri": {spaLogout}},
		"bad hint":       {"id_token_hint": {"x.y.z"}},
		"access token":   {"id_token_hint": {e.tokens(e.exchange(e.callback(b.authorize(spaRequest()), spaRedirect).Get("code"), verifierForSPA)).AccessToken}},
		"client differs": {"id_token_hint": {hint}, "client_id": {"web"}},
	} {
		if p := endsession(b, q); p.StatusCode != 400 || p.Header.Get("Location") != "" || !signedIn(b) {
			t.Errorf("%s: %d %s", name, p.StatusCode, p.Header.Get("Location"))
		}
	}
	// Not signed in: nothing to confirm.
	if p := endsession(e.browser(), url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {spaLogout}}); p.StatusCode != 302 || p.Header.Get("Location") != spaLogout {
		t.Fatalf("not signed in: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
}

// formCSRF returns the csrf field of a rendered form.
func formCSRF(t *testing.T, body string) string {
	t.Helper()
	m := reHidden.FindAllStringSubmatch(body, -1)
	for _, x := range m {
		if x[1] == "csrf" {
			return x[2]
		}
	}
	t.Fatalf("no csrf field in %s", body)
	return ""
}

// TestLoginDiscovery: with the login flows on, discovery lists them and
// only what is supported (golden file).
func TestLoginDiscovery(t *testing.T) {
	clients, resources := loginClients(t)
	keys := newFakeKeys(t)
	s, err := New(Config{Issuer: "https://login.example.com", Keys: keys, Clients: clients, APIResources: resources, Grants: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "/.well-known/openid-configuration", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(doc, "", "  ")
	got = append(got, '\n')
	const golden = "testdata/discovery-login.golden"
	if os.Getenv("SIGNET_UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, got, 0o644)
	}
	if want := readFile(t, golden); string(got) != string(want) {
		t.Fatalf("discovery:\n%s\nwant (%s; SIGNET_UPDATE_GOLDEN=1 rewrites it):\n%s", got, golden, want)
	}
	// Every endpoint it names is served.
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "introspection_endpoint", "revocation_endpoint", "end_session_endpoint", "pushed_authorization_request_endpoint", "jwks_uri"} {
		u, _ := url.Parse(doc[k].(string))
		r, _ := http.NewRequest("OPTIONS", u.Path, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code == 404 {
			t.Errorf("%s %s is not served", k, u.Path)
		}
	}
}

// TestIdentityScopesRecheckedAfterReload: identity scopes a client lost
// (email here) are no longer issued on refresh, and userinfo no longer
// releases them for tokens issued before the reload.
func TestIdentityScopesRecheckedAfterReload(t *testing.T) {
	e := newLoginEnv(t)
	tr := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
	if p := e.userinfo(tr.AccessToken); !strings.Contains(p.body, "alice@example.com") {
		t.Fatalf("before the reload userinfo: %d %s", p.StatusCode, p.body)
	}
	clients, resources := loginClients(t)
	for i := range clients {
		if clients[i].ID == "spa" {
			clients[i].IdentityScopes = []string{"openid", "profile", "offline_access"}
		}
	}
	if err := e.s.SetClients(clients, resources); err != nil {
		t.Fatal(err)
	}
	if p := e.userinfo(tr.AccessToken); p.StatusCode != 200 || p.body != `{"given_name":"Alice","name":"Alice Liddell","sub":"user-alice"}` {
		t.Fatalf("userinfo after email was removed from the client: %d %s", p.StatusCode, p.body)
	}
	p := e.refresh(tr.RefreshToken)
	e.oauthErr(p, 400, "invalid_scope")
	if !strings.Contains(p.body, "scope 'email' is no longer allowed for this client") {
		t.Fatalf("refresh: %s", p.body)
	}
	// The refused refresh did not use the token: a narrower request works.
	narrow := e.tokens(e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tr.RefreshToken},
		"scope": {"openid profile offline_access reports.read"}}))
	if narrow.Scope != "openid profile offline_access reports.read" {
		t.Fatalf("narrow refresh scope %q", narrow.Scope)
	}
	if p := e.userinfo(narrow.AccessToken); strings.Contains(p.body, "email") {
		t.Fatalf("userinfo of the narrow token: %s", p.body)
	}
}
