package dpop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAccessToken(t *testing.T) {
	tests := []struct {
		auth  []string
		token string
		want  error
	}{
		{[]string{"DPoP abc.def-_~+/="}, "abc.def-_~+/=", nil},
		{[]string{"dpop abc"}, "abc", nil},
		{[]string{"DPoP  abc"}, "abc", nil},
		{nil, "", ErrNoToken},
		{[]string{"Bearer abc"}, "", ErrScheme},
		{[]string{"bearer abc"}, "", ErrScheme},
		{[]string{"Basic YTpi"}, "", ErrNoToken},
		{[]string{"DPoP"}, "", ErrNoToken},
		{[]string{"DPoP a b"}, "", ErrNoToken},
		{[]string{"DPoP a,b"}, "", ErrNoToken},
		{[]string{"DPoP a", "DPoP b"}, "", ErrNoToken},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		for _, a := range tt.auth {
			r.Header.Add("Authorization", a)
		}
		got, err := AccessToken(r)
		if got != tt.token || !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%q: got %q, %v; want %q, %v", tt.auth, got, err, tt.token, tt.want)
		}
	}
	_, err := AccessToken(httptest.NewRequest("GET", "/", nil))
	if ErrorCode(err) != "" {
		t.Errorf("no credentials has code %q; want none", ErrorCode(err))
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer x")
	if _, err := AccessToken(r); ErrorCode(err) != CodeInvalidToken {
		t.Errorf("Bearer: code %q", ErrorCode(err))
	}
}

// resourceRequest is GET https://api.example.com/items?x=1 with the token
// and a proof by k.
func resourceRequest(k testKey, token string, edit func(map[string]any)) *http.Request {
	r := httptest.NewRequest("GET", "http://127.0.0.1:9000/items?x=1", nil)
	r.Header.Set("Authorization", "DPoP "+token)
	c := baseClaims()
	c["htm"], c["htu"], c["ath"] = "GET", "https://api.example.com/items", AccessTokenHash(token)
	if edit != nil {
		edit(c)
	}
	r.Header.Set("DPoP", k.sign(k.header(), c))
	return r
}

const apiURI = "https://api.example.com/items?x=1"

func TestVerifyResource(t *testing.T) {
	ks := testKeys(t)
	k := ks["ES256"]
	v := newVerifier(t, Config{})
	jkt := thumbOf(t, k)
	otherJKT := thumbOf(t, ks["EdDSA"])

	p, err := v.VerifyResource(resourceRequest(k, "tok", nil), apiURI, "tok", jkt)
	if err != nil {
		t.Fatal(err)
	}
	if p.Thumbprint != jkt {
		t.Errorf("thumbprint %q", p.Thumbprint)
	}
	tests := []struct {
		name string
		r    *http.Request
		tok  string
		jkt  string
		want error
	}{
		{"token bound to another key", resourceRequest(k, "tok", nil), "tok", otherJKT, ErrTokenBinding},
		{"token not bound", resourceRequest(k, "tok", nil), "tok", "", ErrTokenBinding},
		{"proof for another token", resourceRequest(k, "other", nil), "tok", jkt, ErrATH},
		{"proof without ath", resourceRequest(k, "tok", func(c map[string]any) { delete(c, "ath") }), "tok", jkt, ErrATH},
		{"proof for another URI", resourceRequest(k, "tok", func(c map[string]any) { c["htu"] = "https://api.example.com/admin" }), "tok", jkt, ErrHTU},
		{"proof for another method", resourceRequest(k, "tok", func(c map[string]any) { c["htm"] = "DELETE" }), "tok", jkt, ErrHTM},
		{"no token", resourceRequest(k, "tok", nil), "", jkt, ErrNoToken},
	}
	noProof := resourceRequest(k, "tok", nil)
	noProof.Header.Del("DPoP")
	tests = append(tests, struct {
		name string
		r    *http.Request
		tok  string
		jkt  string
		want error
	}{"no proof", noProof, "tok", jkt, ErrMissing})
	for _, tt := range tests {
		if _, err := v.VerifyResource(tt.r, apiURI, tt.tok, tt.jkt); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func thumbOf(t *testing.T, k testKey) string {
	t.Helper()
	var j joseKey
	if err := j.UnmarshalJSON(mustJSON(k.jwk)); err != nil {
		t.Fatal(err)
	}
	s, err := Thumbprint(&j)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChallenge(t *testing.T) {
	algs := []string{"ES256", "PS256"}
	tests := []struct {
		err  error
		want string
	}{
		{ErrNoToken, `DPoP algs="ES256 PS256"`},
		{ErrScheme, `DPoP error="invalid_token", error_description="the access token is DPoP-bound: send it as Authorization: DPoP, not Bearer", algs="ES256 PS256"`},
		{errors.Join(errors.New("ctx"), ErrHTU), `DPoP error="invalid_dpop_proof", error_description="the DPoP proof's htu does not match the request URI", algs="ES256 PS256"`},
		{ErrNonce, `DPoP error="use_dpop_nonce", error_description="the DPoP proof has no valid server nonce", algs="ES256 PS256"`},
	}
	for _, tt := range tests {
		if got := Challenge(tt.err, algs); got != tt.want {
			t.Errorf("Challenge(%v)\n got %s\nwant %s", tt.err, got, tt.want)
		}
	}
	// What the client sent never reaches the header.
	k := testKeys(t)["ES256"]
	c := baseClaims()
	c["htu"] = "https://x/\"\r\nSet-Cookie: a=b"
	_, err := newVerifier(t, Config{}).Verify(k.sign(k.header(), c), tokenReq)
	if got := Challenge(err, algs); strings.ContainsAny(got, "\r\n") || strings.Contains(got, "Set-Cookie") {
		t.Errorf("challenge echoes the client: %q", got)
	}
}

func TestWriteError(t *testing.T) {
	n, _ := NewNonces(secretA, 0, fixedClock(t0))
	v := newVerifier(t, Config{Nonces: n})
	w := httptest.NewRecorder()
	v.WriteError(w, ErrNonce)
	if w.Code != 401 || w.Header().Get("DPoP-Nonce") != n.Current() ||
		!strings.Contains(w.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) {
		t.Errorf("use_dpop_nonce answer: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	newVerifier(t, Config{}).WriteError(w, ErrTokenBinding)
	if w.Code != 401 || w.Header().Get("DPoP-Nonce") != "" ||
		w.Header().Get("WWW-Authenticate") != `DPoP error="invalid_token", error_description="the access token is not bound to the DPoP proof's key", algs="ES256 PS256 RS256 EdDSA"` {
		t.Errorf("invalid_token answer: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	v.WriteError(w, errors.New("store down"))
	if w.Code != 500 || w.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("server error: %d %v", w.Code, w.Header())
	}
}

// TestProver: proofs from the Prover verify for every default algorithm
// and carry what was asked.
func TestProver(t *testing.T) {
	ks := testKeys(t)
	v := newVerifier(t, Config{})
	for _, alg := range DefaultAlgorithms() {
		p, err := NewProver(ks[alg].signer, alg, fixedClock(t0))
		if err != nil {
			t.Fatal(err)
		}
		proof, err := p.Proof("GET", "https://api.example.com/items?x=1#f", ProofOptions{AccessToken: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/items", nil)
		r.Header.Set("Authorization", "DPoP tok")
		r.Header.Set("DPoP", proof)
		got, err := v.VerifyResource(r, apiURI, "tok", p.Thumbprint())
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if p.Thumbprint() != thumbOf(t, ks[alg]) {
			t.Errorf("%s: prover thumbprint %s", alg, p.Thumbprint())
		}
		second, _ := p.Proof("GET", apiURI, ProofOptions{AccessToken: "tok"})
		r.Header.Set("DPoP", second)
		if again, err := v.VerifyResource(r, apiURI, "tok", p.Thumbprint()); err != nil || again.JTI == got.JTI {
			t.Errorf("%s: second proof %v, jti repeated: %v", alg, err, err == nil && again.JTI == got.JTI)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, alg := range []string{"RS256", "ES384", "HS256", "none"} {
		if _, err := NewProver(ec, alg, nil); err == nil {
			t.Errorf("P-256 key accepted for %s", alg)
		}
	}
	n, _ := NewNonces(secretA, 0, fixedClock(t0))
	p, _ := NewProver(ec, "ES256", fixedClock(t0.Add(-time.Second)))
	proof, _ := p.Proof("POST", tokenReq.URI, ProofOptions{Nonce: n.Current()})
	if _, err := newVerifier(t, Config{Nonces: n}).Verify(proof, tokenReq); err != nil {
		t.Errorf("prover's nonce: %v", err)
	}
}
