package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// cancel presses the login page's Cancel button.
func (b *browser) cancel(loginPage string) page {
	f := formFields(b.e.t, loginPage)
	f.Set("cancel", "1")
	return b.post(b.e.issuer+PathLogin, f)
}

// TestLoginCancel: the login page's Cancel button returns the user agent
// to the client with error=access_denied, state and iss (OpenID Connect
// Core 3.1.2.6); it is CSRF-protected like the sign-in, and it uses up a
// pushed request.
func TestLoginCancel(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	if !strings.Contains(lp.body, `name="cancel"`) || !strings.Contains(lp.body, "formnovalidate") {
		t.Fatalf("the login page has no cancel control:\n%s", lp.body)
	}

	// Without the browser's CSRF cookie, or with another token, nothing
	// goes to the client.
	f := formFields(t, lp.body)
	f.Set("cancel", "1")
	if p := e.browser().post(e.issuer+PathLogin, f); p.StatusCode != http.StatusForbidden || p.Header.Get("Location") != "" {
		t.Fatalf("cancel from another browser: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	f.Set("csrf", "forged")
	if p := b.post(e.issuer+PathLogin, f); p.StatusCode != http.StatusForbidden || p.Header.Get("Location") != "" {
		t.Fatalf("cancel with a forged token: %d %s", p.StatusCode, p.Header.Get("Location"))
	}

	cb := e.callback(b.cancel(lp.body), spaRedirect)
	if cb.Get("error") != "access_denied" || cb.Get("state") != "st-1" || cb.Get("code") != "" || cb.Get("error_description") == "" {
		t.Fatalf("cancel: %v, want access_denied with the state", cb)
	}
	for _, ck := range b.c.Jar.Cookies(mustURL(t, e.issuer)) {
		if ck.Name == sessionCookie {
			t.Fatalf("cancel signed the user in: %v", ck)
		}
	}

	// A pushed request: access_denied with the pushed state; the pending
	// request is used up, so the form cannot sign in afterwards.
	b = e.browser()
	lp = b.get(b.authorize(byReference("web", e.pushed(webRequest()))).Header.Get("Location"))
	if cb := e.callback(b.cancel(lp.body), webRedirect); cb.Get("error") != "access_denied" || cb.Get("state") != "pushed-state" {
		t.Fatalf("cancel of a pushed request: %v", cb)
	}
	pageErrorCode(t, b.submitLogin(lp.body, "alice", alicePassword), "invalid_request_uri")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
