package clientauth

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestParseBasicCredentials(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		header                string
		id, secret, rawSecret string
		ok                    bool
	}{
		{enc("billing:s3cret"), "billing", "s3cret", "", true},
		{enc(url.QueryEscape("my client") + ":" + url.QueryEscape("a+b/c=")), "my client", "a+b/c=", "", true}, // RFC 6749 2.3.1
		{enc("billing:ab+cd/ef=="), "billing", "ab cd/ef==", "ab+cd/ef==", true},                               // curl -u: '+' sent raw
		{enc("billing:50%off"), "billing", "50%off", "", true},                                                 // not form encoding: as sent
		{enc("billing:p%41ss+word"), "billing", "pAss word", "p%41ss+word", true},
		{enc("bad%zz:x"), "bad%zz", "x", "", true},
		{enc("c:a:b"), "c", "a:b", "", true},
		{enc(":secret"), "", "", "", false},
		{enc("nocolon"), "", "", "", false},
		{"Basic !!!", "", "", "", false},
		{"Bearer abc", "", "", "", false},
	} {
		c, ok := ParseBasicCredentials(tc.header)
		if ok != tc.ok || (ok && (c.ID != tc.id || c.Secret != tc.secret || c.RawSecret != tc.rawSecret)) {
			t.Errorf("ParseBasicCredentials(%q) = %+v, %v; want %q, %q, %q, %v", tc.header, c, ok, tc.id, tc.secret, tc.rawSecret, tc.ok)
		}
	}
}

// An id that is a URL, sent without encoding its colons, is found by
// trying each ':' as the separator.
func TestBasicCredentialsResolve(t *testing.T) {
	known := func(id string) bool {
		return id == "https://api.example.com" || id == "https://api.example.com:8443" || id == "a+b"
	}
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ header, id, secret string }{
		{enc("https://api.example.com:s3cret"), "https://api.example.com", "s3cret"},
		{enc("https://api.example.com:8443:s3c:ret"), "https://api.example.com:8443", "s3c:ret"},
		{enc(url.QueryEscape("https://api.example.com:8443") + ":" + url.QueryEscape("s+c")), "https://api.example.com:8443", "s+c"},
		{enc("a+b:x+y"), "a+b", "x+y"}, // the raw id, with the raw secret
	} {
		c, _ := ParseBasicCredentials(tc.header)
		if !c.Resolve(known) || c.ID != tc.id || c.Secret != tc.secret || c.RawSecret != "" {
			t.Errorf("%q resolved to %+v; want %q, %q", tc.header, c, tc.id, tc.secret)
		}
	}
	c, _ := ParseBasicCredentials(enc("https://nobody.example:x"))
	if c.Resolve(known) || c.ID != "https" {
		t.Errorf("unknown id resolved: %+v", c)
	}
}

func TestVerifyBasic(t *testing.T) {
	const secret = "ab+cd/ef=="
	raw := BasicCredentials{ID: "c", Secret: "ab cd/ef==", RawSecret: secret} // sent raw
	encoded := BasicCredentials{ID: "c", Secret: secret}                      // sent form-encoded
	spaced := BasicCredentials{ID: "c", Secret: "ab cd", RawSecret: "ab+cd"}  // a passphrase with a space, form-encoded
	for _, conf := range []string{HashSHA256(secret), "plain:" + secret, cheapArgonPHC(t, secret)} {
		s, err := ParseSecret(conf)
		if err != nil {
			t.Fatal(err)
		}
		secrets := []*Secret{s}
		if !VerifyBasic(secrets, raw) || !VerifyBasic(secrets, encoded) {
			t.Errorf("%s: raw %v, encoded %v", s.Kind(), VerifyBasic(secrets, raw), VerifyBasic(secrets, encoded))
		}
		if VerifyBasic(secrets, BasicCredentials{Secret: "ab cd/ef==", RawSecret: "ab+cd/ef=x"}) {
			t.Errorf("%s: a wrong secret passed", s.Kind())
		}
	}
	pass, _ := ParseSecret(cheapArgonPHC(t, "ab cd"))
	if !VerifyBasic([]*Secret{pass}, spaced) {
		t.Error("a passphrase with a space, form-encoded, failed")
	}

	// A client that sends its '+' raw pays argon2id once: later requests
	// find the remembered verification, with every argon2id slot taken.
	s, _ := ParseSecret(cheapArgonPHC(t, secret))
	if !VerifyBasic([]*Secret{s}, raw) {
		t.Fatal("raw secret refused")
	}
	b := &recordingBudget{}
	if ok, err := CheckBasic(context.Background(), b, []*Secret{s}, raw); !ok || err != nil {
		t.Errorf("the remembered raw secret was refused: %v %v", ok, err)
	}
	if len(b.kib) != 0 {
		t.Fatalf("CheckBasic ran argon2id again for a remembered secret (%d hashes)", len(b.kib))
	}

	// A wrong secret with a raw '+' costs two hashes, each under the budget.
	fresh, _ := ParseSecret(cheapArgonPHC(t, secret))
	b = &recordingBudget{}
	if ok, _ := CheckBasic(context.Background(), b, []*Secret{fresh}, BasicCredentials{Secret: "x y", RawSecret: "x+y"}); ok || len(b.kib) != 2 {
		t.Errorf("wrong raw secret: ok %v, %d hashes under the budget, want false and 2", ok, len(b.kib))
	}
}

// Resolve looks up a bounded number of ids, whatever the header.
func TestBasicCredentialsResolveBounded(t *testing.T) {
	raw := strings.Repeat("a:", 10000) + "secret"
	c, ok := ParseBasicCredentials("Basic " + base64.StdEncoding.EncodeToString([]byte(raw)))
	if !ok {
		t.Fatal("not parsed")
	}
	calls := 0
	if c.Resolve(func(string) bool { calls++; return false }) || calls > 1+maxResolveTries {
		t.Errorf("%d lookups, want at most %d", calls, 1+maxResolveTries)
	}
}

// BenchmarkParseBasicCredentials is client_secret_basic on the token
// path: parse, resolve a known id, verify a sha256 secret.
func BenchmarkParseBasicCredentials(b *testing.B) {
	h := "Basic " + base64.StdEncoding.EncodeToString([]byte("billing-service:"+benchSecret))
	secrets := []*Secret{mustSecret(b, HashSHA256(benchSecret))}
	known := func(id string) bool { return id == "billing-service" }
	b.ReportAllocs()
	for b.Loop() {
		c, _ := ParseBasicCredentials(h)
		c.Resolve(known)
		sinkOK = VerifyBasic(secrets, c)
	}
}

func mustSecret(tb testing.TB, conf string) *Secret {
	tb.Helper()
	s, err := ParseSecret(conf)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
