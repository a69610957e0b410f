package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseClaimsParameter(t *testing.T) {
	for _, tc := range []struct {
		raw               string
		userinfo, idToken []string
		acr               []string
		err               string
	}{
		{raw: `{}`},
		{raw: `{"userinfo":{"name":null,"email":{"essential":true}},"id_token":{"auth_time":{"essential":true},"acr":{"values":["a","b"]}},"other":1}`,
			userinfo: []string{"email", "name"}, idToken: []string{"acr", "auth_time"}, acr: []string{"a", "b"}},
		{raw: `{"id_token":{"acr":{"essential":true,"value":"` + ACRMultiFactor + `"}}}`, idToken: []string{"acr"}, acr: []string{ACRMultiFactor}},
		{raw: `{"userinfo":null}`},
		{raw: ``, err: "claims must be a JSON object"},
		{raw: `[]`, err: "claims must be a JSON object"},
		{raw: `null`, err: "claims must be a JSON object"},
		{raw: `{"userinfo":"name"}`, err: "claims.userinfo must be a JSON object"},
		{raw: `{"userinfo":{"name":true}}`, err: `claims.userinfo."name" must be null or an object`},
		{raw: `{"userinfo":{"name":{"essential":"yes"}}}`, err: `claims.userinfo."name" must be null or an object`},
		{raw: `{"id_token":{"acr":{"values":"x"}}}`, err: `claims.id_token."acr".values must be an array`},
		{raw: `{"id_token":{"":null}}`, err: "empty or too long"},
		{raw: `{"userinfo":{` + manyClaims(65) + `}}`, err: "more than 64 claims"},
		{raw: `{"userinfo":{"x":"` + strings.Repeat("a", maxClaimsLen) + `"}}`, err: "longer than 4096"},
	} {
		cr, err := parseClaimsParameter(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%.80s: %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if !slices.Equal(cr.userinfo, tc.userinfo) || !slices.Equal(cr.idToken, tc.idToken) || !slices.Equal(cr.acr, tc.acr) {
			t.Errorf("%s: %+v", tc.raw, cr)
		}
	}
}

func manyClaims(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, `"c`+strings.Repeat("x", i)+`":null`)
	}
	return strings.Join(parts, ",")
}

func TestWantedACR(t *testing.T) {
	for _, tc := range []struct {
		values, claims []string
		want           string
	}{
		{nil, nil, ""},
		{[]string{ACRMultiFactor}, nil, ACRMultiFactor},
		{[]string{"urn:other", ACRMultiFactor, ACRSingleFactor}, nil, ACRMultiFactor},
		{[]string{ACRSingleFactor, ACRMultiFactor}, nil, ""}, // the first preference is met by one factor
		{nil, []string{ACRMultiFactor}, ACRMultiFactor},
		{nil, []string{ACRMultiFactor, ACRSingleFactor}, ""},
		{nil, []string{"urn:other"}, ""},
	} {
		if got := wantedACR(tc.values, tc.claims); got != tc.want {
			t.Errorf("acr_values %v, claims acr %v: %q, want %q", tc.values, tc.claims, got, tc.want)
		}
	}
}

// TestClaimsParameterFlow: with scope openid only, the claims parameter
// puts email in the ID token and name, given_name at userinfo, each only
// where it was asked for, and a refresh keeps them; a claim the client's
// scopes would not release (web has no email scope) is left out; a
// malformed parameter is invalid_request at the redirect URI; the
// parameter travels through PAR.
func TestClaimsParameterFlow(t *testing.T) {
	e := newLoginEnv(t)
	claims := `{"id_token":{"email":{"essential":true},"acr":null,"sub":null,"no_such_claim":null},"userinfo":{"name":null,"given_name":{"essential":true}}}`
	tr := e.tokens(e.exchange(e.code(e.browser(), spaRequest("scope", "openid offline_access", "claims", claims)), verifierForSPA))
	checkID := func(what, tok string) {
		t.Helper()
		_, c := e.jwtParts(tok)
		if c["email"] != "alice@example.com" || c["name"] != nil || c["no_such_claim"] != nil || c["sub"] != aliceSub || c["acr"] != ACRSingleFactor {
			t.Errorf("%s: ID token %v", what, c)
		}
	}
	checkID("code exchange", tr.IDToken)
	ui := map[string]any{}
	if err := json.Unmarshal([]byte(e.userinfo(tr.AccessToken).body), &ui); err != nil {
		t.Fatal(err)
	}
	if ui["name"] != "Alice Liddell" || ui["given_name"] != "Alice" || ui["email"] != nil || ui["sub"] != aliceSub {
		t.Errorf("userinfo %v", ui)
	}
	e.clock.Add(time.Minute)
	checkID("refresh", e.tokens(e.refresh(tr.RefreshToken)).IDToken)

	// Without the parameter: nothing but the scopes' claims.
	plain := e.tokens(e.exchange(e.code(e.browser(), spaRequest("scope", "openid")), verifierForSPA))
	if _, c := e.jwtParts(plain.IDToken); c["email"] != nil {
		t.Errorf("ID token without the parameter: %v", c)
	}
	if body := e.userinfo(plain.AccessToken).body; strings.Contains(body, "Alice") {
		t.Errorf("userinfo without the parameter: %s", body)
	}

	// Through PAR, for web (identity scopes openid, profile).
	uri := e.pushed(webRequest("scope", "openid", "claims", `{"id_token":{"name":null,"email":null}}`))
	b := e.browser()
	lp := b.get(b.authorize(byReference("web", uri)).Header.Get("Location"))
	cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect)
	p := e.token(url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {webRedirect},
		"code_verifier": {verifierForSPA}}, "web", webSecret)
	_, c := e.jwtParts(e.tokens(p).IDToken)
	if c["name"] != "Alice Liddell" || c["email"] != nil {
		t.Errorf("web's ID token: %v", c)
	}

	for _, bad := range []string{`not json`, `{"userinfo":[]}`, `{"id_token":{"acr":{"values":"x"}}}`} {
		q := spaRequest("claims", bad)
		if cb := e.callback(e.browser().authorize(q), spaRedirect); cb.Get("error") != "invalid_request" || !strings.Contains(cb.Get("error_description"), "claims") {
			t.Errorf("claims %s: %v", bad, cb)
		}
	}
}

// TestClaimsParameterInRequestObject: a request object carries claims
// as a JSON object (OpenID Connect Core 6.1).
func TestClaimsParameterInRequestObject(t *testing.T) {
	k := newKeyedClient(t, "jar")
	e := newLoginEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "jar", JWKS: k.keySet(t), GrantTypes: []string{grantAuthorizationCode},
			IdentityScopes: []string{"openid", "profile"}, RedirectURIs: []string{webRedirect}, AccessTokenLifetime: 5 * time.Minute})
	})
	rc := jarClaims("with-claims")
	rc["claims"] = map[string]any{"id_token": map[string]any{"given_name": map[string]any{"essential": true}}}
	b := e.browser()
	lp := b.get(b.authorize(url.Values{"client_id": {"jar"}, "request": {k.requestObject(t, e.issuer, e.clock.Now(), rc)}}).Header.Get("Location"))
	cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect)
	p := e.token(assertionForm(k.assertion(t, e.issuer, e.clock.Now()), "grant_type", "authorization_code", "code", cb.Get("code"),
		"redirect_uri", webRedirect, "code_verifier", verifierForSPA))
	if p.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %s", p.StatusCode, p.body)
	}
	_, c := e.jwtParts(e.tokens(p).IDToken)
	if c["given_name"] != "Alice" {
		t.Fatalf("ID token %v", c)
	}
}

// TestClaimsParameterEssentialACR: an essential acr whose only
// acceptable class is the multi-factor one makes the user enrol a second
// factor after the password.
func TestClaimsParameterEssentialACR(t *testing.T) {
	e := newLoginEnv(t, withMFA(t))
	q := spaRequest("claims", `{"id_token":{"acr":{"essential":true,"values":["`+ACRMultiFactor+`"]}}}`)
	if p := e.browser().signIn(q, "alice", alicePassword); p.StatusCode != 200 || !strings.Contains(p.body, `id="totp-key"`) {
		t.Fatalf("want the enrolment: %d %s", p.StatusCode, p.body)
	}
}

// TestClaimsParameterSubValue: a request whose claims name a user (the
// id_token sub value) gets an answer only for that user (OpenID Connect
// Core 5.5.1): bob's session signs in again, and a sign-in as bob is
// refused; alice gets her code.
func TestClaimsParameterSubValue(t *testing.T) {
	e := newLoginEnv(t)
	claims := `{"id_token":{"sub":{"value":"` + aliceSub + `"}}}`
	bob := e.browser()
	e.callback(bob.signIn(spaRequest(), "bob", bobPassword), spaRedirect)
	if cb := e.callback(bob.authorize(spaRequest("claims", claims, "prompt", "none")), spaRedirect); cb.Get("error") != "login_required" {
		t.Fatalf("bob's session, prompt=none: %v", cb)
	}
	p := bob.authorize(spaRequest("claims", claims))
	if p.StatusCode != http.StatusFound || !strings.HasPrefix(p.Header.Get("Location"), e.issuer+PathLogin) {
		t.Fatalf("bob's session: want the login page, got %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	lp := bob.get(p.Header.Get("Location"))
	if cb := e.callback(bob.submitLogin(lp.body, "bob", bobPassword), spaRedirect); cb.Get("error") != "access_denied" || cb.Get("code") != "" {
		t.Fatalf("signing in as bob: %v", cb)
	}
	if cb := e.callback(e.browser().signIn(spaRequest("claims", claims), "alice", alicePassword), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("alice: %v", cb)
	}
	if cb := e.callback(e.browser().authorize(spaRequest("claims", `{"id_token":{"sub":{"value":7}}}`)), spaRedirect); cb.Get("error") != "invalid_request" {
		t.Fatalf("a sub value that is not a string: %v", cb)
	}
}
