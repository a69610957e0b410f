package dpop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVerifyRules has one accepted case per algorithm and, for every rule
// of RFC 9449 section 4.3, cases that must be refused with that rule.
func TestVerifyRules(t *testing.T) {
	ks := testKeys(t)
	es := ks["ES256"]
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallKey := testKey{alg: "RS256", signer: small, jwk: rsaJWK(&small.PublicKey)}
	// A JWS with an HMAC over the usual input: what an alg confusion
	// attack sends.
	hsProof := func() string {
		hdr := es.header()
		hdr["alg"] = "HS256"
		input := b64.EncodeToString(mustJSON(hdr)) + "." + b64.EncodeToString(mustJSON(baseClaims()))
		m := hmac.New(sha256.New, []byte("secret"))
		m.Write([]byte(input))
		return input + "." + b64.EncodeToString(m.Sum(nil))
	}

	type edit struct {
		hdr    func(map[string]any)
		claims func(map[string]any)
	}
	with := func(k testKey, e edit) string {
		h, c := k.header(), baseClaims()
		if e.hdr != nil {
			e.hdr(h)
		}
		if e.claims != nil {
			e.claims(c)
		}
		return k.sign(h, c)
	}
	set := func(name string, v any) func(map[string]any) { return func(m map[string]any) { m[name] = v } }
	del := func(name string) func(map[string]any) { return func(m map[string]any) { delete(m, name) } }

	tests := []struct {
		name  string
		proof string
		req   Request
		want  error // nil: accepted
	}{
		{"ES256", with(es, edit{}), tokenReq, nil},
		{"PS256", with(ks["PS256"], edit{}), tokenReq, nil},
		{"RS256", with(ks["RS256"], edit{}), tokenReq, nil},
		{"EdDSA", with(ks["EdDSA"], edit{}), tokenReq, nil},

		// size and shape
		{"larger than 8 KiB", with(es, edit{claims: set("pad", strings.Repeat("a", MaxProofSize))}), tokenReq, ErrTooLarge},
		{"two parts", "a.b", tokenReq, ErrMalformed},
		{"four parts", with(es, edit{}) + ".x", tokenReq, ErrMalformed},
		{"header not base64url", "a+b." + strings.SplitN(with(es, edit{}), ".", 2)[1], tokenReq, ErrMalformed},
		{"header not JSON", b64.EncodeToString([]byte("nope")) + ".e30.sig", tokenReq, ErrMalformed},
		{"header with trailing data", es.signRaw(append(mustJSON(es.header()), []byte(" {}")...), mustJSON(baseClaims())), tokenReq, ErrMalformed},
		{"claims not JSON", es.signRaw(mustJSON(es.header()), []byte("[1]")), tokenReq, ErrMalformed},
		{"claims with trailing data", es.signRaw(mustJSON(es.header()), append(mustJSON(baseClaims()), []byte(" {}")...)), tokenReq, ErrMalformed},
		{"claims padded base64", strings.Replace(with(es, edit{}), ".", "=.", 2), tokenReq, ErrMalformed},

		// typ
		{"typ missing", with(es, edit{hdr: del("typ")}), tokenReq, ErrType},
		{"typ JWT", with(es, edit{hdr: set("typ", "JWT")}), tokenReq, ErrType},
		{"typ other case accepted", with(es, edit{hdr: set("typ", "DPoP+JWT")}), tokenReq, nil},

		// alg
		{"alg none", es.signRaw(mustJSON(map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": es.jwk}), mustJSON(baseClaims())), tokenReq, ErrAlgorithm},
		{"alg HS256", hsProof(), tokenReq, ErrAlgorithm},
		{"alg ES384 not in the default list", with(ks["ES384"], edit{}), tokenReq, ErrAlgorithm},
		{"alg missing", with(es, edit{hdr: del("alg")}), tokenReq, ErrAlgorithm},

		// jwk
		{"jwk missing", with(es, edit{hdr: del("jwk")}), tokenReq, ErrKey},
		{"jwk null", with(es, edit{hdr: set("jwk", nil)}), tokenReq, ErrKey},
		{"jwk not an object", with(es, edit{hdr: set("jwk", "key")}), tokenReq, ErrKey},
		{"jwk with d", with(es, edit{hdr: func(h map[string]any) { h["jwk"].(map[string]any)["d"] = "AAAA" }}), tokenReq, ErrPrivateKey},
		{"jwk with RSA p", with(ks["RS256"], edit{hdr: func(h map[string]any) { h["jwk"].(map[string]any)["p"] = "AAAA" }}), tokenReq, ErrPrivateKey},
		{"jwk symmetric", with(es, edit{hdr: set("jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"})}), tokenReq, ErrPrivateKey},
		{"RS256 with an EC key", with(es, edit{hdr: set("alg", "RS256")}), tokenReq, ErrKey},
		{"ES256 with an RSA key", with(ks["RS256"], edit{hdr: set("alg", "ES256")}), tokenReq, ErrKey},
		{"ES256 with a P-384 key", with(es, edit{hdr: set("jwk", ks["ES384"].jwk)}), tokenReq, ErrKey},
		{"EdDSA with an EC key", with(es, edit{hdr: set("alg", "EdDSA")}), tokenReq, ErrKey},
		{"RSA key of 1024 bits", with(smallKey, edit{}), tokenReq, ErrKey},

		// signature
		{"signed by another key", with(es, edit{hdr: set("jwk", ecJWK(&mustEC(ellipticP256()).PublicKey, "P-256", 32))}), tokenReq, ErrSignature},
		{"claims changed after signing", tamperClaims(with(es, edit{})), tokenReq, ErrSignature},
		{"signature empty", strings.Join(strings.Split(with(es, edit{}), ".")[:2], ".") + ".", tokenReq, ErrSignature},

		// jti
		{"jti missing", with(es, edit{claims: del("jti")}), tokenReq, ErrJTI},
		{"jti empty", with(es, edit{claims: set("jti", "")}), tokenReq, ErrJTI},
		{"jti too long", with(es, edit{claims: set("jti", strings.Repeat("j", MaxJTILength+1))}), tokenReq, ErrJTI},
		{"jti longest", with(es, edit{claims: set("jti", strings.Repeat("j", MaxJTILength))}), tokenReq, nil},
		{"jti a number", with(es, edit{claims: set("jti", 7)}), tokenReq, ErrMalformed},

		// htm
		{"htm missing", with(es, edit{claims: del("htm")}), tokenReq, ErrHTM},
		{"htm other method", with(es, edit{claims: set("htm", "GET")}), tokenReq, ErrHTM},
		{"htm lower case", with(es, edit{claims: set("htm", "post")}), tokenReq, ErrHTM},

		// htu
		{"htu missing", with(es, edit{claims: del("htu")}), tokenReq, ErrHTU},
		{"htu other path", with(es, edit{claims: set("htu", "https://server.example.com/userinfo")}), tokenReq, ErrHTU},
		{"htu other host", with(es, edit{claims: set("htu", "https://evil.example.com/token")}), tokenReq, ErrHTU},
		{"htu http", with(es, edit{claims: set("htu", "http://server.example.com/token")}), tokenReq, ErrHTU},
		{"htu other port", with(es, edit{claims: set("htu", "https://server.example.com:8443/token")}), tokenReq, ErrHTU},
		{"htu trailing slash", with(es, edit{claims: set("htu", "https://server.example.com/token/")}), tokenReq, ErrHTU},
		{"htu relative", with(es, edit{claims: set("htu", "/token")}), tokenReq, ErrHTU},
		{"htu with user", with(es, edit{claims: set("htu", "https://a@server.example.com/token")}), tokenReq, ErrHTU},
		{"htu case and default port", with(es, edit{claims: set("htu", "HTTPS://Server.Example.COM:443/token")}), tokenReq, nil},
		{"htu query and fragment ignored", with(es, edit{claims: set("htu", "https://server.example.com/token?a=b#c")}), tokenReq, nil},
		{"htu dot segments and encoding", with(es, edit{claims: set("htu", "https://server.example.com/x/../%74oken")}), tokenReq, nil},
		{"request URI normalized too", with(es, edit{}), Request{Method: "POST", URI: "https://SERVER.example.com:443/token?x=1"}, nil},

		// iat
		{"iat missing", with(es, edit{claims: del("iat")}), tokenReq, ErrIssuedAt},
		{"iat a string", with(es, edit{claims: set("iat", "now")}), tokenReq, ErrMalformed},
		{"iat too old", with(es, edit{claims: set("iat", t0.Add(-DefaultWindow-time.Second).Unix())}), tokenReq, ErrIssuedAt},
		{"iat too far ahead", with(es, edit{claims: set("iat", t0.Add(DefaultWindow+time.Second).Unix())}), tokenReq, ErrIssuedAt},
		{"iat oldest accepted", with(es, edit{claims: set("iat", t0.Add(-DefaultWindow).Unix())}), tokenReq, nil},
		{"iat latest accepted", with(es, edit{claims: set("iat", t0.Add(DefaultWindow).Unix())}), tokenReq, nil},
		{"iat fractional", with(es, edit{claims: set("iat", float64(t0.Unix())+0.5)}), tokenReq, nil},
		{"iat negative", with(es, edit{claims: set("iat", -1)}), tokenReq, ErrIssuedAt},
		{"iat huge", with(es, edit{claims: set("iat", 1e300)}), tokenReq, ErrIssuedAt},

		// ath
		{"ath accepted", with(es, edit{claims: set("ath", AccessTokenHash("tok"))}), Request{Method: "POST", URI: tokenReq.URI, AccessToken: "tok"}, nil},
		{"ath missing with a token", with(es, edit{}), Request{Method: "POST", URI: tokenReq.URI, AccessToken: "tok"}, ErrATH},
		{"ath of another token", with(es, edit{claims: set("ath", AccessTokenHash("other"))}), Request{Method: "POST", URI: tokenReq.URI, AccessToken: "tok"}, ErrATH},
		{"ath of the token unencoded", with(es, edit{claims: set("ath", "tok")}), Request{Method: "POST", URI: tokenReq.URI, AccessToken: "tok"}, ErrATH},
	}
	v := newVerifier(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(tt.proof, tt.req)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.Thumbprint == "" || p.JTI == "" || !p.Expires.After(p.IssuedAt) {
					t.Fatalf("incomplete proof %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want %v", tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidProof) || ErrorCode(err) != CodeInvalidProof {
				t.Fatalf("%v is not of class invalid_dpop_proof (code %q)", err, ErrorCode(err))
			}
		})
	}
}

func tamperClaims(proof string) string {
	parts := strings.Split(proof, ".")
	c := baseClaims()
	c["htm"] = "POST"
	c["jti"] = "another"
	parts[1] = b64.EncodeToString(mustJSON(c))
	return strings.Join(parts, ".")
}

// TestVerifyProofFields checks what a verified proof reports.
func TestVerifyProofFields(t *testing.T) {
	k := testKeys(t)["ES256"]
	v := newVerifier(t, Config{Window: 30 * time.Second})
	c := baseClaims()
	c["iat"] = t0.Add(-10 * time.Second).Unix()
	c["nonce"] = "n-1"
	p, err := v.Verify(k.sign(k.header(), c), tokenReq)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Thumbprint(&p.Key)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case p.Thumbprint != want || p.Thumbprint == "":
		t.Errorf("thumbprint %q, want %q", p.Thumbprint, want)
	case p.JTI != "e1j3V_bKic8-LAEB" || p.Algorithm != "ES256" || p.Nonce != "n-1":
		t.Errorf("proof %+v", p)
	case !p.IssuedAt.Equal(t0.Add(-10*time.Second)) || !p.Expires.Equal(t0.Add(20*time.Second)):
		t.Errorf("iat %s expires %s", p.IssuedAt, p.Expires)
	case !p.Key.IsPublic():
		t.Error("key is not public")
	}
	// The replay id is per key and jti.
	other := *p
	other.JTI = "x"
	if p.ReplayID() == other.ReplayID() || len(p.ReplayID()) != 64 {
		t.Errorf("replay ids %q %q", p.ReplayID(), other.ReplayID())
	}
	other = *p
	other.Thumbprint = "y"
	if p.ReplayID() == other.ReplayID() {
		t.Error("two keys' jtis share a replay id")
	}
}

// TestVerifyNonce: a verifier with nonces refuses proofs without a
// current nonce as use_dpop_nonce, and accepts the current one.
func TestVerifyNonce(t *testing.T) {
	k := testKeys(t)["ES256"]
	now := t0
	clock := func() time.Time { return now }
	n, err := NewNonces([]byte(strings.Repeat("s", 32)), 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewNonces([]byte(strings.Repeat("o", 32)), 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, Config{Nonces: n, Now: clock})
	if v.Nonce() != n.Current() {
		t.Fatalf("verifier nonce %q, want %q", v.Nonce(), n.Current())
	}
	proof := func(nonce any) string {
		c := baseClaims()
		c["iat"] = now.Unix()
		if nonce != nil {
			c["nonce"] = nonce
		}
		return k.sign(k.header(), c)
	}
	if _, err := v.Verify(proof(n.Current()), tokenReq); err != nil {
		t.Fatalf("current nonce refused: %v", err)
	}
	stale := n.Current()
	now = now.Add(3 * DefaultNoncePeriod)
	for name, nonce := range map[string]any{"missing": nil, "stale": stale, "another secret's": other.Current(), "garbage": "abc"} {
		_, err := v.Verify(proof(nonce), tokenReq)
		if !errors.Is(err, ErrNonce) || !errors.Is(err, ErrUseNonce) || errors.Is(err, ErrInvalidProof) || ErrorCode(err) != CodeUseNonce {
			t.Errorf("%s nonce: got %v, want use_dpop_nonce", name, err)
		}
	}
	// Without nonces configured, a proof's nonce is not checked.
	if _, err := newVerifier(t, Config{Now: clock}).Verify(proof("anything"), tokenReq); err != nil {
		t.Errorf("nonce checked without nonces configured: %v", err)
	}
}

// TestNewRefuses: algorithms outside the supported asymmetric set and
// windows out of bounds are configuration errors.
func TestNewRefuses(t *testing.T) {
	for _, c := range []Config{
		{Algorithms: []string{"none"}},
		{Algorithms: []string{"HS256"}},
		{Algorithms: []string{"ES256", "hs512"}},
		{Algorithms: []string{}},
		{Window: time.Millisecond},
		{Window: MaxWindow + time.Second},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	v, err := New(Config{Algorithms: []string{"ES384", "ES256", "ES384"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Algorithms(), " "); got != "ES384 ES256" {
		t.Errorf("algorithms %q", got)
	}
	if got := strings.Join(newVerifier(t, Config{}).Algorithms(), " "); got != "ES256 PS256 RS256 EdDSA" {
		t.Errorf("default algorithms %q", got)
	}
}

// TestVerifyConfiguredAlgorithms: a verifier limited to EdDSA refuses
// ES256, and one allowing ES384 accepts it.
func TestVerifyConfiguredAlgorithms(t *testing.T) {
	ks := testKeys(t)
	ed := newVerifier(t, Config{Algorithms: []string{"EdDSA"}})
	if _, err := ed.Verify(ks["ES256"].sign(ks["ES256"].header(), baseClaims()), tokenReq); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("ES256 at an EdDSA verifier: %v", err)
	}
	if _, err := ed.Verify(ks["EdDSA"].sign(ks["EdDSA"].header(), baseClaims()), tokenReq); err != nil {
		t.Errorf("EdDSA refused: %v", err)
	}
	es384 := newVerifier(t, Config{Algorithms: []string{"ES384"}})
	if _, err := es384.Verify(ks["ES384"].sign(ks["ES384"].header(), baseClaims()), tokenReq); err != nil {
		t.Errorf("ES384 refused where allowed: %v", err)
	}
}

// TestFromHeader: exactly one DPoP header, bounded.
func TestFromHeader(t *testing.T) {
	h := http.Header{}
	if _, err := FromHeader(h); !errors.Is(err, ErrMissing) {
		t.Errorf("no header: %v", err)
	}
	h.Set("DPoP", "a.b.c")
	if p, err := FromHeader(h); err != nil || p != "a.b.c" {
		t.Errorf("one header: %q %v", p, err)
	}
	h.Add("Dpop", "d.e.f")
	if _, err := FromHeader(h); !errors.Is(err, ErrMultiple) || !errors.Is(err, ErrInvalidProof) {
		t.Errorf("two headers: %v", err)
	}
	h.Set("DPoP", strings.Repeat("a", MaxProofSize+1))
	if _, err := FromHeader(h); !errors.Is(err, ErrTooLarge) {
		t.Errorf("large header: %v", err)
	}
	h.Set("DPoP", "")
	if _, err := FromHeader(h); !errors.Is(err, ErrMissing) {
		t.Errorf("empty header: %v", err)
	}
}

// TestVerifyRequest reads the method from the request.
func TestVerifyRequest(t *testing.T) {
	k := testKeys(t)["ES256"]
	v := newVerifier(t, Config{})
	r, _ := http.NewRequest("POST", "http://127.0.0.1:8080/token", nil)
	r.Header.Set("DPoP", k.sign(k.header(), baseClaims()))
	if _, err := v.VerifyRequest(r, "https://server.example.com/token", ""); err != nil {
		t.Fatal(err)
	}
	r.Method = "PUT"
	if _, err := v.VerifyRequest(r, "https://server.example.com/token", ""); !errors.Is(err, ErrHTM) {
		t.Fatalf("PUT: %v", err)
	}
}

// TestThumbprintRFC7638 is the example of RFC 7638 section 3.1.
func TestThumbprintRFC7638(t *testing.T) {
	const jwk = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	var k joseKey
	if err := k.UnmarshalJSON([]byte(jwk)); err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(&k)
	if err != nil {
		t.Fatal(err)
	}
	if got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Errorf("thumbprint %s", got)
	}
}

// TestAccessTokenHash is the example of RFC 9449 section 7.1.
func TestAccessTokenHash(t *testing.T) {
	if got := AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Errorf("ath %s", got)
	}
}

func TestValidThumbprint(t *testing.T) {
	good := thumbOf(t, testKeys(t)["ES256"])
	if !ValidThumbprint(good) {
		t.Errorf("%s refused", good)
	}
	// The last of 43 characters holds 4 bits and 2 zero bits: B never
	// ends a canonical encoding.
	for _, s := range []string{"", good[:42], good + "A", good[:42] + "=", good[:42] + "+", good[:42] + "B"} {
		if ValidThumbprint(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
