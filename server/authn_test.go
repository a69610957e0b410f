package server

import (
	"fmt"
	"html"
	"net/http"
	"slices"
	"testing"
	"time"
)

// amrOf returns the amr claim of a token's claims as strings.
func amrOf(claims map[string]any) []string {
	var out []string
	l, _ := claims["amr"].([]any)
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// TestIDTokenAuthenticationDetails: the built-in page's sign-in is a
// password (amr [pwd], the single-factor acr) and the ID token says so,
// with auth_time the moment of the sign-in; a refresh keeps all three; a
// second authorization in the same session too.
func TestIDTokenAuthenticationDetails(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	signedIn := e.clock.Now().Unix()
	q := spaRequest("scope", "openid offline_access")
	tr := e.tokens(e.exchange(e.code(b, q), verifierForSPA))
	check := func(what, tok string) {
		t.Helper()
		_, c := e.jwtParts(tok)
		if got := amrOf(c); !slices.Equal(got, []string{AMRPassword}) {
			t.Errorf("%s: amr = %v, want [pwd]", what, got)
		}
		if c["acr"] != ACRSingleFactor {
			t.Errorf("%s: acr = %v, want %s", what, c["acr"], ACRSingleFactor)
		}
		if at, _ := c["auth_time"].(float64); int64(at) != signedIn {
			t.Errorf("%s: auth_time = %v, want %d", what, c["auth_time"], signedIn)
		}
	}
	check("code exchange", tr.IDToken)
	e.clock.Add(time.Minute)
	check("refresh", e.tokens(e.refresh(tr.RefreshToken)).IDToken)
	check("the session's next code", e.tokens(e.exchange(e.callback(b.authorize(q), spaRedirect).Get("code"), verifierForSPA)).IDToken)
}

// TestLoginUICompleteWith: a login page that signs users in upstream
// records amr [fed]; the class derives from the methods unless given.
func TestLoginUICompleteWith(t *testing.T) {
	for _, tc := range []struct {
		name string
		auth Authentication
		amr  []string
		acr  string
	}{
		{name: "fed", auth: Authentication{AMR: []string{AMRFederated}}, amr: []string{"fed"}, acr: ACRSingleFactor},
		{name: "fed+otp", auth: Authentication{AMR: []string{AMRFederated, AMROTP}}, amr: []string{"fed", "otp"}, acr: ACRMultiFactor},
		{name: "given acr", auth: Authentication{AMR: []string{"hwk"}, ACR: "urn:example:strong"}, amr: []string{"hwk"}, acr: "urn:example:strong"},
		{name: "empty", auth: Authentication{}, amr: []string{"pwd"}, acr: ACRSingleFactor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLoginEnv(t, withLoginUI(completingUI(tc.auth)))
			b := e.browser()
			lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
			cb := e.callback(b.post(e.issuer+PathLogin, formFields(t, lp.body)), spaRedirect)
			_, c := e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
			if got := amrOf(c); !slices.Equal(got, tc.amr) || c["acr"] != tc.acr {
				t.Fatalf("amr %v acr %v, want %v %v", got, c["acr"], tc.amr, tc.acr)
			}
		})
	}
}

// completingUI is a login page that signs alice in, as auth says, when
// its form is posted.
func completingUI(auth Authentication) LoginUI {
	return LoginUIFunc(func(w http.ResponseWriter, r *http.Request, lr *LoginRequest) {
		if r.Method != http.MethodPost {
			fmt.Fprintf(w, `<input type="hidden" name="request" value="%s"><input type="hidden" name="csrf" value="%s">`,
				html.EscapeString(lr.ID()), html.EscapeString(lr.HiddenFields().Get("csrf")))
			return
		}
		lr.CompleteWith(w, r, aliceSub, auth)
	})
}
