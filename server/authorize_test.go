package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeErrorPage: with no trustworthy redirect URI, the user sees
// an HTML page (never a redirect, never internals).
func TestAuthorizeErrorPage(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	for _, tc := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"no client_id", []string{"client_id", ""}, "client_id is missing"},
		{"unknown client", []string{"client_id", "nobody"}, "invalid_client"},
		{"client without the code flow", []string{"client_id", "billing"}, "unauthorized_client"},
		{"no redirect_uri", []string{"redirect_uri", ""}, "redirect_uri is missing"},
		{"unregistered redirect_uri", []string{"redirect_uri", "https://evil.example/cb"}, "redirect_uri is not registered"},
		{"redirect_uri prefix", []string{"redirect_uri", spaRedirect + "/x"}, "redirect_uri is not registered"},
		{"redirect_uri case", []string{"redirect_uri", strings.ToUpper(spaRedirect)}, "redirect_uri is not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.authorize(spaRequest(tc.extra...))
			if p.StatusCode != 400 || p.Header.Get("Location") != "" || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %v", p.StatusCode, p.Header)
			}
			if !strings.Contains(p.body, tc.want) || strings.Contains(p.body, "goroutine") {
				t.Fatalf("page does not say %q:\n%s", tc.want, p.body)
			}
		})
	}
	// A repeated redirect_uri or client_id cannot be trusted either.
	q := spaRequest()
	q.Add("redirect_uri", "https://evil.example/cb")
	if p := b.authorize(q); p.StatusCode != 400 || p.Header.Get("Location") != "" {
		t.Fatalf("duplicate redirect_uri: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	// Malformed encoding.
	if p := b.get(e.issuer + PathAuthorize + "?client_id=%zz"); p.StatusCode != 400 {
		t.Fatalf("malformed: %d", p.StatusCode)
	}
	// Other methods.
	req, _ := http.NewRequest("PUT", e.issuer+PathAuthorize, nil)
	if p := e.do(b.c, req); p.StatusCode != 405 || p.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("PUT: %d %v", p.StatusCode, p.Header)
	}
}

// TestAuthorizeErrorRedirect: once the client and redirect URI are good,
// errors go back to the client with state and iss.
func TestAuthorizeErrorRedirect(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	dupScope := spaRequest()
	dupScope.Add("scope", "openid")
	for _, tc := range []struct {
		name  string
		q     url.Values
		code  string
		state string
	}{
		{"no response_type", spaRequest("response_type", ""), "invalid_request", "st-1"},
		{"token response type", spaRequest("response_type", "token"), "unsupported_response_type", "st-1"},
		{"hybrid response type", spaRequest("response_type", "code id_token"), "unsupported_response_type", "st-1"},
		{"response_mode fragment", spaRequest("response_mode", "fragment"), "invalid_request", "st-1"},
		{"plain PKCE", spaRequest("code_challenge_method", "plain"), "invalid_request", "st-1"},
		{"PKCE without method (plain)", spaRequest("code_challenge_method", ""), "invalid_request", "st-1"},
		{"method without challenge", spaRequest("code_challenge", ""), "invalid_request", "st-1"},
		{"public client without PKCE", spaRequest("code_challenge", "", "code_challenge_method", ""), "invalid_request", "st-1"},
		{"malformed challenge", spaRequest("code_challenge", "short"), "invalid_request", "st-1"},
		{"no scope", spaRequest("scope", ""), "invalid_scope", "st-1"},
		{"scope not allowed", spaRequest("scope", "openid orders.write"), "invalid_scope", "st-1"},
		{"only scopes the server does not know", spaRequest("scope", "phone groups"), "invalid_scope", "st-1"},
		{"bad scope characters", spaRequest("scope", "openid \"x\""), "invalid_scope", "st-1"},
		{"registration", spaRequest("registration", "{}"), "registration_not_supported", "st-1"},
		{"duplicate scope", dupScope, "invalid_request", "st-1"},
		{"unknown prompt", spaRequest("prompt", "create"), "invalid_request", "st-1"},
		{"prompt none and login", spaRequest("prompt", "none login"), "invalid_request", "st-1"},
		{"negative max_age", spaRequest("max_age", "-1"), "invalid_request", "st-1"},
		{"max_age not a number", spaRequest("max_age", "1h"), "invalid_request", "st-1"},
		{"long state is not echoed", spaRequest("state", strings.Repeat("s", maxStateLen+1)), "invalid_request", ""},
		{"long nonce", spaRequest("nonce", strings.Repeat("n", maxNonceLen+1)), "invalid_request", "st-1"},
		{"no state", spaRequest("state", "", "response_type", "token"), "unsupported_response_type", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb := e.callback(b.authorize(tc.q), spaRedirect)
			if cb.Get("error") != tc.code || cb.Get("state") != tc.state || cb.Get("code") != "" || cb.Get("error_description") == "" {
				t.Fatalf("callback %v, want error %s state %q", cb, tc.code, tc.state)
			}
		})
	}
}

// TestAuthorizePost: the request may be a form POST (OpenID Connect Core
// 3.1.2.1); the answer is then a 303.
func TestAuthorizePost(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	p := b.post(e.issuer+PathAuthorize, spaRequest())
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d %s", p.StatusCode, p.body)
	}
	if cb := e.callback(p, spaRedirect); cb.Get("code") == "" {
		t.Fatalf("%v", cb)
	}
	req, _ := http.NewRequest("POST", e.issuer+PathAuthorize, strings.NewReader(spaRequest().Encode()))
	req.Header.Set("Content-Type", "text/plain")
	if p := e.do(b.c, req); p.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain body: %d", p.StatusCode)
	}
}

func TestAppendQuery(t *testing.T) {
	v := url.Values{"code": {"c"}}
	for in, want := range map[string]string{
		"https://a/cb":       "https://a/cb?code=c",
		"https://a/cb?x=1":   "https://a/cb?x=1&code=c",
		"https://a/cb?":      "https://a/cb?code=c",
		"https://a/cb?x=1&":  "https://a/cb?x=1&code=c",
		"com.example.app:/c": "com.example.app:/c?code=c",
	} {
		if got := appendQuery(in, v); got != want {
			t.Errorf("appendQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
