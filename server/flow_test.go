package server

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
)

// TestLoginFlow walks the whole flow over HTTP: authorize, login page,
// code, exchange with PKCE, ID token claims, userinfo, refresh, revoke,
// end session.
func TestLoginFlow(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	q := spaRequest()
	code := e.code(b, q)
	tr := e.tokens(e.exchange(code, verifierForSPA))
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 600 || tr.RefreshToken == "" || tr.IDToken == "" ||
		tr.Scope != "openid profile email offline_access reports.read" {
		t.Fatalf("token response %+v", tr)
	}

	// The ID token: signed with the default key (ES256), every claim.
	h, id := e.jwtParts(tr.IDToken)
	if h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != "JWT" {
		t.Fatalf("ID token header %+v", h)
	}
	sum := sha256.Sum256([]byte(tr.AccessToken))
	now := float64(testNow.Unix())
	want := map[string]any{"iss": e.issuer, "sub": aliceSub, "aud": "spa", "iat": now, "exp": now + 300, "auth_time": now,
		"nonce": "n-1", "at_hash": base64.RawURLEncoding.EncodeToString(sum[:16])}
	for k, v := range want {
		if id[k] != v {
			t.Errorf("ID token %s = %v, want %v", k, id[k], v)
		}
	}
	sid, _ := id["sid"].(string)
	if sid == "" {
		t.Error("ID token has no sid")
	}

	// The access token: RFC 9068, audience the resource of the API scope.
	h, at := e.jwtParts(tr.AccessToken)
	if h.ExtraHeaders["typ"] != "at+jwt" || at["aud"] != "reports" || at["sub"] != aliceSub || at["client_id"] != "spa" ||
		at["sid"] != sid || at["auth_time"] != now || at["jti"] == "" || at["exp"] != now+600 {
		t.Fatalf("access token %v %v", h, at)
	}

	// userinfo: sub, profile and email claims.
	ui := e.userinfo(tr.AccessToken)
	if ui.StatusCode != 200 || ui.body != `{"email":"alice@example.com","email_verified":true,"given_name":"Alice","name":"Alice Liddell","sub":"user-alice"}` {
		t.Fatalf("userinfo %d %s", ui.StatusCode, ui.body)
	}

	// Refresh: a new refresh token, the same sid and auth_time, no nonce.
	e.clock.Add(time.Minute)
	tr2 := e.tokens(e.refresh(tr.RefreshToken))
	if tr2.RefreshToken == "" || tr2.RefreshToken == tr.RefreshToken || tr2.AccessToken == tr.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", tr2)
	}
	_, id2 := e.jwtParts(tr2.IDToken)
	if id2["sid"] != sid || id2["auth_time"] != now || id2["nonce"] != nil || id2["iat"] != now+60 {
		t.Fatalf("refreshed ID token %v", id2)
	}
	// A narrower scope on refresh.
	tr3 := e.tokens(e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tr2.RefreshToken}, "scope": {"reports.read"}}))
	if tr3.Scope != "reports.read" || tr3.IDToken != "" {
		t.Fatalf("narrowed refresh %+v", tr3)
	}
	// The rotated token keeps the family's whole scope.
	tr4 := e.tokens(e.refresh(tr3.RefreshToken))
	if tr4.Scope != tr.Scope {
		t.Fatalf("scope after narrowing: %q", tr4.Scope)
	}

	// Revoke the refresh token: the family is gone.
	rv := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr4.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if rv.StatusCode != 200 {
		t.Fatalf("revocation %d %s", rv.StatusCode, rv.body)
	}
	e.oauthErr(e.refresh(tr4.RefreshToken), 400, "invalid_grant")
	if ui := e.userinfo(tr4.AccessToken); ui.StatusCode != 401 {
		t.Fatalf("access token issued with a revoked refresh token still works: %d", ui.StatusCode)
	}

	// End the session with the ID token as hint: back to the client with state.
	p := b.get(e.issuer + PathEndSession + "?" + url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {spaLogout}, "state": {"bye-1"}}.Encode())
	if p.StatusCode != http.StatusFound || p.Header.Get("Location") != spaLogout+"?state=bye-1" {
		t.Fatalf("end session: %d %s %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	// Signed out: prompt=none now fails.
	cb := e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect)
	if cb.Get("error") != "login_required" || cb.Get("state") != "st-1" {
		t.Fatalf("after logout: %v", cb)
	}
}

// token2 posts a form to another endpoint of the issuer.
func (e *loginEnv) token2(path string, form url.Values, basic ...string) page {
	req, _ := http.NewRequest("POST", e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return e.do(nil, req)
}

func TestSSOAndPromptNone(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	// With a session, authorize answers at once, even with prompt=none.
	for _, prompt := range []string{"", "none", "consent"} {
		cb := e.callback(b.authorize(spaRequest("prompt", prompt)), spaRedirect)
		if cb.Get("code") == "" {
			t.Fatalf("prompt=%q: %v", prompt, cb)
		}
	}
	// Without one, prompt=none is login_required (with state and iss).
	cb := e.callback(e.browser().authorize(spaRequest("prompt", "none")), spaRedirect)
	if cb.Get("error") != "login_required" || cb.Get("state") != "st-1" || cb.Get("code") != "" {
		t.Fatalf("prompt=none without session: %v", cb)
	}
}

func TestPromptLoginAndMaxAge(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	toLogin := func(p page) bool {
		return p.StatusCode == http.StatusFound && strings.HasPrefix(p.Header.Get("Location"), e.issuer+PathLogin+"?")
	}
	for _, tc := range []struct {
		name  string
		extra []string
		after time.Duration
		login bool
	}{
		{"prompt=login", []string{"prompt", "login"}, 0, true},
		{"max_age=0", []string{"max_age", "0"}, 0, true},
		{"max_age not reached", []string{"max_age", "120"}, 0, false},
		{"max_age exactly reached", []string{"max_age", "120"}, 120 * time.Second, false},
		{"max_age exceeded", []string{"max_age", "120"}, time.Second, true},
	} {
		e.clock.Add(tc.after)
		p := b.authorize(spaRequest(tc.extra...))
		if toLogin(p) != tc.login {
			t.Errorf("%s: login page %v, want %v (%d %s)", tc.name, toLogin(p), tc.login, p.StatusCode, p.Header.Get("Location"))
		}
	}
	// max_age exceeded with prompt=none is login_required, not a page.
	cb := e.callback(b.authorize(spaRequest("max_age", "1", "prompt", "none")), spaRedirect)
	if cb.Get("error") != "login_required" {
		t.Fatalf("max_age with prompt=none: %v", cb)
	}
	// Signing in again through prompt=login issues a code with a new auth_time.
	e.clock.Add(time.Hour)
	code := e.callback(b.signIn(spaRequest("prompt", "login", "max_age", "5"), "alice", alicePassword), spaRedirect).Get("code")
	_, id := e.jwtParts(e.tokens(e.exchange(code, verifierForSPA)).IDToken)
	if id["auth_time"] != float64(e.clock.Now().Unix()) {
		t.Fatalf("auth_time %v, want the new sign-in", id["auth_time"])
	}
}

func TestCodeReplayRevokesWhatItIssued(t *testing.T) {
	e := newLoginEnv(t)
	code := e.code(e.browser(), spaRequest())
	tr := e.tokens(e.exchange(code, verifierForSPA))
	if m := e.introspect(tr.AccessToken); m["active"] != true {
		t.Fatalf("before replay: %v", m)
	}
	e.oauthErr(e.exchange(code, verifierForSPA), 400, "invalid_grant")
	// The first exchange's refresh token and access token are revoked.
	e.oauthErr(e.refresh(tr.RefreshToken), 400, "invalid_grant")
	if m := e.introspect(tr.AccessToken); m["active"] != false {
		t.Fatalf("after replay the access token is %v", m)
	}
	if ui := e.userinfo(tr.AccessToken); ui.StatusCode != 401 || !strings.Contains(ui.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("userinfo after replay: %d %v", ui.StatusCode, ui.Header)
	}
	if !strings.Contains(e.logs.String(), "authorization code used twice") {
		t.Error("the replay is not logged")
	}
}

// TestCodeReplayOnlyByItsClient: a used code presented by another client,
// or by its own client without its redirect URI or verifier, is refused
// without revoking anything; only the client it was issued to, with its
// bindings, triggers the replay's revocation.
func TestCodeReplayOnlyByItsClient(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "other-spa", Public: true, GrantTypes: []string{grantAuthorizationCode},
			IdentityScopes: []string{"openid"}, RedirectURIs: []string{"https://other.example.com/cb"}, AccessTokenLifetime: time.Minute})
	})
	code := e.code(e.browser(), spaRequest())
	tr := e.tokens(e.exchange(code, verifierForSPA))
	form := func(kv ...string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		name  string
		form  url.Values
		basic []string
	}{
		{"another public client, wrong redirect, no verifier", form("client_id", "other-spa", "redirect_uri", "https://other.example.com/cb"), nil},
		{"another public client with the code's bindings", form("client_id", "other-spa", "redirect_uri", spaRedirect, "code_verifier", verifierForSPA), nil},
		{"a confidential client", form("redirect_uri", spaRedirect, "code_verifier", verifierForSPA), []string{"web", webSecret}},
		{"its client, wrong redirect", form("client_id", "spa", "redirect_uri", spaRedirect+"/x", "code_verifier", verifierForSPA), nil},
		{"its client, no verifier", form("client_id", "spa", "redirect_uri", spaRedirect), nil},
		{"its client, wrong verifier", form("client_id", "spa", "redirect_uri", spaRedirect, "code_verifier", strings.Repeat("x", 43)), nil},
	} {
		e.oauthErr(e.token(tc.form, tc.basic...), 400, "invalid_grant")
		if m := e.introspect(tr.AccessToken); m["active"] != true {
			t.Fatalf("%s: the first exchange's access token was revoked: %v", tc.name, m)
		}
	}
	if strings.Contains(e.logs.String(), "authorization code used twice") {
		t.Fatal("a replay was handled for a request that is not the code's client with its bindings")
	}
	tr = e.tokens(e.refresh(tr.RefreshToken)) // the family is alive
	// The code's own client, with its bindings: a replay; the family dies.
	e.oauthErr(e.exchange(code, verifierForSPA), 400, "invalid_grant")
	e.oauthErr(e.refresh(tr.RefreshToken), 400, "invalid_grant")
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newLoginEnv(t)
	code := e.code(e.browser(), spaRequest())
	t1 := e.tokens(e.exchange(code, verifierForSPA))
	t2 := e.tokens(e.refresh(t1.RefreshToken)) // rotation: t1's refresh token is used
	t3 := e.tokens(e.refresh(t2.RefreshToken))
	// An old refresh token comes back: stolen. The family dies.
	e.oauthErr(e.refresh(t1.RefreshToken), 400, "invalid_grant")
	e.oauthErr(e.refresh(t3.RefreshToken), 400, "invalid_grant")
	// The access token the reused token's first use issued is revoked.
	if ui := e.userinfo(t2.AccessToken); ui.StatusCode != 401 {
		t.Fatalf("access token of the reused refresh token still works: %d", ui.StatusCode)
	}
	// Another family of the same user is untouched.
	other := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
	e.tokens(e.refresh(other.RefreshToken))
}

func TestCodeExchangeBindings(t *testing.T) {
	e := newLoginEnv(t)
	code := e.code(e.browser(), spaRequest())
	for _, tc := range []struct {
		name string
		form url.Values
		auth []string
		code string
	}{
		{"wrong verifier", url.Values{"code_verifier": {strings.Repeat("x", 43)}}, nil, "invalid_grant"},
		{"short verifier", url.Values{"code_verifier": {"abc"}}, nil, "invalid_grant"},
		{"no verifier", url.Values{"code_verifier": {""}}, nil, "invalid_grant"},
		{"wrong redirect_uri", url.Values{"redirect_uri": {spaRedirect + "/other"}}, nil, "invalid_grant"},
		{"no redirect_uri", url.Values{"redirect_uri": {""}}, nil, "invalid_request"},
		{"another client", url.Values{"client_id": {""}}, []string{"web", webSecret}, "invalid_grant"},
		{"unknown code", url.Values{"code": {"nope"}}, nil, "invalid_grant"},
		{"duplicate code", url.Values{"code": {code, code}}, nil, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code}, "redirect_uri": {spaRedirect}, "code_verifier": {verifierForSPA}}
			for k, v := range tc.form {
				if len(v) == 1 && v[0] == "" {
					f.Del(k)
				} else {
					f[k] = v
				}
			}
			status := 400
			e.oauthErr(e.token(f, tc.auth...), status, tc.code)
		})
	}
	// None of these consumed the code: the right request still works.
	e.tokens(e.exchange(code, verifierForSPA))
}

func TestCodeExpires(t *testing.T) {
	e := newLoginEnv(t)
	code := e.code(e.browser(), spaRequest())
	e.clock.Add(CodeLifetime)
	e.oauthErr(e.exchange(code, verifierForSPA), 400, "invalid_grant")

	code = e.code(e.browser(), spaRequest())
	e.clock.Add(CodeLifetime - time.Second)
	e.tokens(e.exchange(code, verifierForSPA))
}

func TestConfidentialClient(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "web" {
				c.Clients[i].IDTokenLifetime = 90 * time.Second
			}
		}
	})
	b := e.signedInBrowser()
	// PKCE is optional for a confidential client; its redirect URI has a query.
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {webRedirect}, "scope": {"openid profile"}, "state": {"w"}}
	cb := e.callback(b.authorize(q), webRedirect)
	if cb.Get("tenant") != "1" || cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {webRedirect}}
	// Without the secret, or with a verifier it never sent: refused.
	e.oauthErr(e.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {"web"}, "code": {cb.Get("code")}, "redirect_uri": {webRedirect}}), 401, "invalid_client")
	e.oauthErr(e.token(form, "web", "wrong"), 401, "invalid_client")
	withVerifier := url.Values{"code_verifier": {verifierForSPA}}
	for k, v := range form {
		withVerifier[k] = v
	}
	e.oauthErr(e.token(withVerifier, "web", webSecret), 400, "invalid_grant")
	tr := e.tokens(e.token(form, "web", webSecret))
	if tr.RefreshToken != "" {
		t.Fatal("a client without refresh_token got a refresh token")
	}
	// allowedIdentityTokenSigningAlgorithms: [EdDSA]; at_hash is SHA-512 based.
	h, id := e.jwtParts(tr.IDToken)
	sum := sha512.Sum512([]byte(tr.AccessToken))
	if h.Algorithm != string(key.EdDSA) || id["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:32]) || id["nonce"] != nil {
		t.Fatalf("ID token %v %v", h.Algorithm, id)
	}
	// The client's own ID token lifetime (the spa's is the default, 300 s:
	// TestLoginFlow).
	if now := float64(testNow.Unix()); id["exp"] != now+90 || id["iat"] != now {
		t.Fatalf("ID token iat %v exp %v, want a 90-second lifetime", id["iat"], id["exp"])
	}
	// No API scope: the access token's audience is the issuer, no restriction.
	if h, at := e.jwtParts(tr.AccessToken); at["aud"] != e.issuer || h.Algorithm != "ES256" {
		t.Fatalf("access token %v %v", h.Algorithm, at)
	}
	// The client may not refresh.
	e.oauthErr(e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "web", webSecret), 400, "unauthorized_client")
	// The API scope's restriction signs the access token (orders: EdDSA).
	code := e.callback(b.authorize(spaRequest("scope", "openid orders.read")), spaRedirect).Get("code")
	if h, _ := e.jwtParts(e.tokens(e.exchange(code, verifierForSPA)).AccessToken); h.Algorithm != "EdDSA" {
		t.Fatalf("orders access token signed with %s", h.Algorithm)
	}
}

func TestPublicClientAuthentication(t *testing.T) {
	e := newLoginEnv(t)
	code := e.code(e.browser(), spaRequest())
	base := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {spaRedirect}, "code_verifier": {verifierForSPA}}
	// A public client that sends a secret is refused; so is no client_id.
	e.oauthErr(e.token(base, "spa", "made-up"), 401, "invalid_client")
	e.oauthErr(e.token(base), 401, "invalid_client")
	withSecret := url.Values{"client_id": {"spa"}, "client_secret": {"made-up"}}
	for k, v := range base {
		withSecret[k] = v
	}
	e.oauthErr(e.token(withSecret), 401, "invalid_client")
	// A confidential client cannot pass as public.
	e.oauthErr(e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {"web"}, "refresh_token": {"x"}}), 401, "invalid_client")
	// An empty Basic password counts as no secret (some libraries send one).
	e.tokens(e.token(base, "spa", ""))
}
