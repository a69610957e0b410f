package adminauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/adminauth/adminauthtest"
)

const issuer = "https://id.example"

// Every refusal the admin API owes, and the one acceptance.
func TestRequire(t *testing.T) {
	var p adminauthtest.KeySet
	k1 := p.Add(t, "k1")
	v, err := NewVerifier(issuer, &p, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := adminauthtest.Token{KID: "k1", Typ: "at+jwt", Issuer: issuer, Audience: []string{Audience}, Scope: ScopeRead + " " + ScopeWrite,
		ClientID: "ops", Expiry: time.Now().Add(time.Hour), Key: k1}
	with := func(f func(*adminauthtest.Token)) string { o := good; f(&o); return adminauthtest.Sign(t, o) }

	// Signed by a key that was published, then retired and deleted.
	old := p.Add(t, "old")
	oldToken := with(func(o *adminauthtest.Token) { o.KID, o.Key = "old", old })
	var seen string
	h := v.Require(ScopeWrite, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = ClaimsFrom(r.Context()).ClientID }))
	if code, _ := call(h, "Bearer "+oldToken); code != 200 {
		t.Fatalf("a token of a published key: %d", code)
	}
	p.Remove("old")

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, tc := range map[string]struct {
		auth   string
		status int
		want   string
	}{
		"no token":                {"", 401, "is required"},
		"basic":                   {"Basic b3BzOnNlY3JldA==", 401, "Bearer"},
		"another audience":        {"Bearer " + with(func(o *adminauthtest.Token) { o.Audience = []string{"https://api.example"} }), 401, "aud"},
		"read scope for a write":  {"Bearer " + with(func(o *adminauthtest.Token) { o.Scope = ScopeRead }), 403, "lacks the scope signet.admin.write"},
		"retired and deleted key": {"Bearer " + oldToken, 401, `\"old\" is not in the published key set`},
		"another issuer":          {"Bearer " + with(func(o *adminauthtest.Token) { o.Issuer = "https://evil.example" }), 401, "iss"},
		"expired":                 {"Bearer " + with(func(o *adminauthtest.Token) { o.Expiry = time.Now().Add(-time.Hour) }), 401, "exp"},
		"an ID token":             {"Bearer " + with(func(o *adminauthtest.Token) { o.Typ = "JWT" }), 401, "typ"},
		"unknown signer":          {"Bearer " + with(func(o *adminauthtest.Token) { o.Key = other }), 401, "signature"},
		"DPoP-bound":              {"Bearer " + with(func(o *adminauthtest.Token) { o.Cnf = true }), 401, "cnf"},
		"HMAC":                    {"Bearer " + with(func(o *adminauthtest.Token) { o.Alg, o.Key = jose.HS256, []byte("0123456789abcdef0123456789abcdef") }), 401, "algorithm"},
	} {
		seen = ""
		code, body := call(h, tc.auth)
		if code != tc.status || !strings.Contains(body, tc.want) || seen != "" {
			t.Errorf("%s: %d %s (handler reached: %q); want %d and %q", name, code, body, seen, tc.status, tc.want)
		}
	}
	if code, body := call(h, "Bearer "+adminauthtest.Sign(t, good)); code != 200 || seen != "ops" {
		t.Errorf("the right token: %d %s", code, body)
	}
	// A write token reads; a read token reads.
	r := v.Require(ScopeRead, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, scope := range []string{ScopeRead, ScopeWrite} {
		if code, body := call(r, "Bearer "+with(func(o *adminauthtest.Token) { o.Scope = scope })); code != 200 {
			t.Errorf("%s reading: %d %s", scope, code, body)
		}
	}
}

func call(h http.Handler, auth string) (int, string) {
	req := httptest.NewRequest("GET", "/admin/v1/clients", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
		return 0, "401 without WWW-Authenticate Bearer"
	}
	return w.Code, w.Body.String()
}
