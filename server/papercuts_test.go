package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Discovery says request_uri is supported only where PAR is served (the
// URNs PAR returns), and explicitly false without the login flows:
// omitted, it means true. Request objects likewise, with their
// algorithms.
func TestDiscoveryRequestURIOnlyWithPAR(t *testing.T) {
	e := newLoginEnv(t)
	p := e.browser().get(e.issuer + PathDiscovery)
	for _, want := range []string{`"request_uri_parameter_supported":true`, `"request_parameter_supported":true`,
		`"request_object_signing_alg_values_supported":["PS256","ES256","EdDSA","RS256"]`,
		`"pushed_authorization_request_endpoint":"` + e.issuer + PathPAR + `"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("discovery lacks %s: %s", want, p.body)
		}
	}
	if strings.Contains(p.body, "require_pushed_authorization_requests") {
		t.Errorf("discovery claims required PAR: %s", p.body)
	}
	s := newTestServer(t, newFakeKeys(t)) // no login flows: no PAR
	r := httptest.NewRequest("GET", PathDiscovery, nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `"request_uri_parameter_supported":false`) || !strings.Contains(w.Body.String(), `"request_parameter_supported":false`) ||
		strings.Contains(w.Body.String(), "pushed_authorization_request_endpoint") || strings.Contains(w.Body.String(), "request_object_signing_alg_values_supported") {
		t.Errorf("discovery without the login flows: %s", w.Body)
	}
}

// unsupported_grant_type names the grants the server serves, and a public
// client (no secret) gets it rather than invalid_client.
func TestUnsupportedGrantType(t *testing.T) {
	e := newLoginEnv(t)
	for name, p := range map[string]page{
		"public client": e.token(url.Values{"grant_type": {"password"}, "client_id": {"spa"}, "username": {"a"}, "password": {"b"}}),
		"confidential":  e.token(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}, "web", webSecret),
		"no client":     e.token(url.Values{"grant_type": {"implicit"}}),
	} {
		e.oauthErr(p, http.StatusBadRequest, "unsupported_grant_type")
		if !strings.Contains(p.body, "this server supports authorization_code, client_credentials, refresh_token") {
			t.Errorf("%s: %s", name, p.body)
		}
	}
	// Without the login flows, only client_credentials is named.
	s := newTestServer(t, newFakeKeys(t))
	w := post(s, url.Values{"grant_type": {"refresh_token"}}, [2]string{"billing", "billing-secret"})
	if w.Code != 400 || !strings.Contains(w.Body.String(), "this server supports client_credentials\"") {
		t.Errorf("client_credentials only: %d %s", w.Code, w.Body)
	}
}

// Scopes the server does not know are ignored and logged (OpenID Connect
// Core 3.1.2.1): oauth2-proxy asks for "groups".
func TestAuthorizeIgnoresUnknownScopes(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	code := e.code(b, spaRequest("scope", "openid groups profile phone"))
	tr := e.tokens(e.exchange(code, verifierForSPA))
	if tr.Scope != "openid profile" || tr.IDToken == "" {
		t.Fatalf("scope %q", tr.Scope)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `msg="authorize: ignoring unknown scopes" client_id=spa scopes="[groups phone]"`) {
		t.Errorf("logs:\n%s", logs)
	}
	// A known scope the client may not ask for is still refused.
	q := e.callback(b.authorize(spaRequest("scope", "openid orders.write")), spaRedirect)
	if q.Get("error") != "invalid_scope" {
		t.Errorf("known scope not allowed: %v", q)
	}
}

// endsession with an ID token and no cookie (a relying party's backend)
// ends the session the token names by its sid; the session's refresh
// tokens stay (offline_access).
func TestEndSessionServerSide(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	tr := e.tokens(e.exchange(e.code(b, spaRequest()), verifierForSPA))
	signedIn := func() bool {
		return e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect).Get("code") != ""
	}
	if !signedIn() {
		t.Fatal("not signed in")
	}
	pending := e.callback(b.authorize(spaRequest()), spaRedirect).Get("code") // an unredeemed code of the session
	backend := e.browser()                                                    // no cookies
	p := backend.get(e.issuer + PathEndSession + "?" + url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {spaLogout}}.Encode())
	if p.StatusCode != http.StatusFound || p.Header.Get("Location") != spaLogout {
		t.Fatalf("server-side logout: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	if signedIn() {
		t.Fatal("the session the ID token names is still signed in")
	}
	if !strings.Contains(e.logs.String(), `msg="signed out by the application (server-side logout)" sub=user-alice`) {
		t.Errorf("logs:\n%s", e.logs)
	}
	e.oauthErr(e.exchange(pending, verifierForSPA), http.StatusBadRequest, "invalid_grant")
	e.tokens(e.refresh(tr.RefreshToken))
}

// endsession refuses a client_id it does not know, with a page that does
// not repeat it.
func TestEndSessionUnknownClient(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	p := b.get(e.issuer + PathEndSession + "?" + url.Values{"client_id": {"<b>evil-app</b>"}}.Encode())
	if p.StatusCode != 400 || strings.Contains(p.body, "evil-app") || !strings.Contains(p.body, "not known to this server") {
		t.Fatalf("unknown client_id: %d %s", p.StatusCode, p.body)
	}
	if e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect).Get("code") == "" {
		t.Fatal("signed out by an unknown client")
	}
}

// Introspection refuses HTTP Basic together with credentials in the body.
func TestIntrospectionTwoAuthMethods(t *testing.T) {
	e := newLoginEnv(t)
	for name, form := range map[string]url.Values{
		"secret in the body": {"token": {"x"}, "client_secret": {reportsSecret}},
		"another client_id":  {"token": {"x"}, "client_id": {"orders"}},
	} {
		req, _ := http.NewRequest("POST", e.issuer+PathIntrospect, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("reports", reportsSecret)
		p := e.do(nil, req)
		if p.StatusCode != 400 || !strings.Contains(p.body, "authenticated twice") {
			t.Errorf("%s: %d %s", name, p.StatusCode, p.body)
		}
	}
	e.introspect("x") // Basic alone still works
}
