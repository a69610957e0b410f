package adminauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/keymanager"
)

const issuer = "https://id.example"

// published is a key set that changes as keys are published and deleted.
type published struct {
	mu   sync.Mutex
	keys map[string]*ecdsa.PrivateKey
	n    int
}

func (p *published) add(t *testing.T, kid string) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = map[string]*ecdsa.PrivateKey{}
	}
	p.keys[kid] = k
	p.n++
	return k
}

func (p *published) remove(kid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.keys, kid)
	p.n++
}

func (p *published) JWKS() *keymanager.JWKS {
	p.mu.Lock()
	defer p.mu.Unlock()
	var set jose.JSONWebKeySet
	for kid, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, _ := json.Marshal(set)
	return &keymanager.JWKS{Body: b, ETag: `"` + string(rune('a'+p.n)) + `"`}
}

type tokenOpts struct {
	kid, typ, iss, scope, clientID string
	aud                            []string
	exp                            time.Time
	alg                            jose.SignatureAlgorithm
	key                            any
	cnf                            bool
}

func sign(t *testing.T, o tokenOpts) string {
	t.Helper()
	if o.alg == "" {
		o.alg = jose.ES256
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(o.typ)).WithHeader(jose.HeaderKey("kid"), o.kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: o.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"iss": o.iss, "aud": o.aud, "exp": o.exp.Unix(), "iat": time.Now().Unix(), "nbf": time.Now().Unix(),
		"scope": o.scope, "client_id": o.clientID, "sub": o.clientID, "jti": "j1"}
	if o.cnf {
		c["cnf"] = map[string]string{"jkt": "x"}
	}
	raw, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Every refusal the admin API owes, and the one acceptance.
func TestRequire(t *testing.T) {
	var p published
	k1 := p.add(t, "k1")
	v, err := NewVerifier(issuer, &p, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := tokenOpts{kid: "k1", typ: "at+jwt", iss: issuer, aud: []string{Audience}, scope: ScopeRead + " " + ScopeWrite,
		clientID: "ops", exp: time.Now().Add(time.Hour), key: k1}
	with := func(f func(*tokenOpts)) string { o := good; f(&o); return sign(t, o) }

	// Signed by a key that was published, then retired and deleted.
	old := p.add(t, "old")
	oldToken := with(func(o *tokenOpts) { o.kid, o.key = "old", old })
	var seen string
	h := v.Require(ScopeWrite, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = ClaimsFrom(r.Context()).ClientID }))
	if code, _ := call(h, "Bearer "+oldToken); code != 200 {
		t.Fatalf("a token of a published key: %d", code)
	}
	p.remove("old")

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, tc := range map[string]struct {
		auth   string
		status int
		want   string
	}{
		"no token":                {"", 401, "is required"},
		"basic":                   {"Basic b3BzOnNlY3JldA==", 401, "Bearer"},
		"another audience":        {"Bearer " + with(func(o *tokenOpts) { o.aud = []string{"https://api.example"} }), 401, "aud"},
		"read scope for a write":  {"Bearer " + with(func(o *tokenOpts) { o.scope = ScopeRead }), 403, "lacks the scope signet.admin.write"},
		"retired and deleted key": {"Bearer " + oldToken, 401, `\"old\" is not in the published key set`},
		"another issuer":          {"Bearer " + with(func(o *tokenOpts) { o.iss = "https://evil.example" }), 401, "iss"},
		"expired":                 {"Bearer " + with(func(o *tokenOpts) { o.exp = time.Now().Add(-time.Hour) }), 401, "exp"},
		"an ID token":             {"Bearer " + with(func(o *tokenOpts) { o.typ = "JWT" }), 401, "typ"},
		"unknown signer":          {"Bearer " + with(func(o *tokenOpts) { o.key = other }), 401, "signature"},
		"DPoP-bound":              {"Bearer " + with(func(o *tokenOpts) { o.cnf = true }), 401, "cnf"},
		"HMAC":                    {"Bearer " + with(func(o *tokenOpts) { o.alg, o.key = jose.HS256, []byte("0123456789abcdef0123456789abcdef") }), 401, "algorithm"},
	} {
		seen = ""
		code, body := call(h, tc.auth)
		if code != tc.status || !strings.Contains(body, tc.want) || seen != "" {
			t.Errorf("%s: %d %s (handler reached: %q); want %d and %q", name, code, body, seen, tc.status, tc.want)
		}
	}
	if code, body := call(h, "Bearer "+sign(t, good)); code != 200 || seen != "ops" {
		t.Errorf("the right token: %d %s", code, body)
	}
	// A write token reads; a read token reads.
	r := v.Require(ScopeRead, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, scope := range []string{ScopeRead, ScopeWrite} {
		if code, body := call(r, "Bearer "+with(func(o *tokenOpts) { o.scope = scope })); code != 200 {
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
