package dpop

import (
	"slices"
	"strings"
	"testing"
)

// FuzzVerify feeds the proof parser arbitrary input: it must never
// panic, and whatever it accepts must satisfy every rule. The seeds run
// in the normal test suite.
func FuzzVerify(f *testing.F) {
	ks := testKeys(f)
	for _, alg := range DefaultAlgorithms() {
		k := ks[alg]
		f.Add(k.sign(k.header(), baseClaims()))
	}
	k := ks["ES256"]
	h := k.header()
	h["jwk"].(map[string]any)["d"] = "AAAA"
	f.Add(k.sign(h, baseClaims()))
	f.Add(k.signRaw([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"","y":""}}`), mustJSON(baseClaims())))
	f.Add(k.signRaw(mustJSON(k.header()), []byte(`{"jti":"a","htm":"POST","htu":"https://server.example.com/token","iat":1e999}`)))
	f.Add("e30.e30.")
	f.Add("..")
	f.Add(strings.Repeat(".", 100))
	v := newVerifier(f, Config{})
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := v.Verify(proof, tokenReq)
		if err != nil {
			if ErrorCode(err) != CodeInvalidProof {
				t.Fatalf("refusal %v has code %q", err, ErrorCode(err))
			}
			return
		}
		want, err := Thumbprint(&p.Key)
		switch {
		case err != nil || want != p.Thumbprint:
			t.Fatalf("thumbprint %q, key's %q (%v)", p.Thumbprint, want, err)
		case !p.Key.IsPublic():
			t.Fatal("accepted a private key")
		case p.JTI == "" || len(p.JTI) > MaxJTILength:
			t.Fatalf("accepted jti %q", p.JTI)
		case p.IssuedAt.Before(t0.Add(-DefaultWindow)) || p.IssuedAt.After(t0.Add(DefaultWindow)):
			t.Fatalf("accepted iat %s", p.IssuedAt)
		case !slices.Contains(DefaultAlgorithms(), p.Algorithm):
			t.Fatalf("accepted alg %q", p.Algorithm)
		}
	})
}

// FuzzNormalizeURI: normalization never panics and is idempotent, so
// equal URIs compare equal however often they are normalized.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{
		"https://server.example.com/token", "HTTPS://A.example:443/%7efoo/../b/./c?q#f",
		"http://[::1]:80/", "http://[::1]:8080/a", "https://h/%2e%2E/x", "https://h:/a%2fb",
		"https://h/a/b/..", "https://h//a", "http://h/%zz", "mailto:x@y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeURI(s)
		if err != nil {
			return
		}
		again, err := NormalizeURI(n)
		if err != nil || again != n {
			t.Fatalf("NormalizeURI(%q) = %q, then %q (%v)", s, n, again, err)
		}
	})
}

// TestNormalizeURI pins the normalization rules.
func TestNormalizeURI(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://Server.Example.COM:443/token": "https://server.example.com/token",
		"http://h:80":                          "http://h/",
		"http://h:":                            "http://h/",
		"https://h:8443/a?b#c":                 "https://h:8443/a",
		"https://h/%7euser/%2f":                "https://h/~user/%2F",
		"https://h/a/./b/../c":                 "https://h/a/c",
		"https://[::1]:443/x":                  "https://[::1]/x",
		"https://[::1]:8443/x":                 "https://[::1]:8443/x",
	} {
		got, err := NormalizeURI(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"/token", "ftp://h/x", "https://u:p@h/x", "https:///x", "mailto:a@b", "https://h/%zz"} {
		if got, err := NormalizeURI(in); err == nil {
			t.Errorf("NormalizeURI(%q) = %q; want an error", in, got)
		}
	}
}
