package clientauth

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseBasic: never a panic; what parses has a client id, and
// encoding it again as RFC 6749 2.3.1 says parses to the same pair. Seeds
// are in testdata/fuzz/FuzzParseBasic.
func FuzzParseBasic(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("billing:s3cret")))
	f.Fuzz(func(t *testing.T, header string) {
		id, secret, ok := ParseBasic(header)
		if !ok {
			if id != "" || secret != "" {
				t.Fatalf("refused %q but returned %q, %q", header, id, secret)
			}
			return
		}
		if id == "" || !IsBasic(header) {
			t.Fatalf("accepted %q as %q, %q", header, id, secret)
		}
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		id2, secret2, ok := ParseBasic(again)
		if !ok || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q, %q: %q, %q, %v", id, secret, id2, secret2, ok)
		}
	})
}

// FuzzParseSecret: a configured secret never panics the parser, errors
// wrap ErrInvalidSecret and never echo a plain secret, and what parses
// verifies consistently. Seeds are in testdata/fuzz/FuzzParseSecret.
func FuzzParseSecret(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("ab", 32))
	f.Fuzz(func(t *testing.T, conf string) {
		s, err := ParseSecret(conf)
		if err != nil {
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("error does not wrap ErrInvalidSecret: %v", err)
			}
			if p, ok := strings.CutPrefix(conf, "plain:"); ok && len(p) > 3 && strings.Contains(err.Error(), p) {
				t.Fatalf("error echoes the secret: %v", err)
			}
			return
		}
		if s.Kind() == KindArgon2id && s.Cost() > 1<<16 {
			return // a valid but expensive hash: parsing is what is fuzzed
		}
		if p, ok := strings.CutPrefix(conf, "plain:"); ok && (!s.Verify(p) || s.Verify(p+"x")) {
			t.Fatalf("plain secret %q does not verify itself only", p)
		}
		if s.Verify("") != s.Verify("") {
			t.Fatal("Verify is not deterministic")
		}
	})
}
