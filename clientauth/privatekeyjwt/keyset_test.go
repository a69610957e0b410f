package privatekeyjwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/key"
)

func jwkJSON(t *testing.T, k jose.JSONWebKey) string {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseKeySet: what config check refuses, each with the reason named.
func TestParseKeySet(t *testing.T) {
	es := testKey(t, key.ES256)
	es2 := testKey(t, key.ES256)
	rs := testKey(t, key.RS256)
	ed := testKey(t, key.EdDSA)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	pub := func(k any, kid, alg string) string {
		return jwkJSON(t, jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg})
	}
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }
	many := make([]string, MaxKeys+1)
	for i := range many {
		many[i] = pub(es.Public(), fmt.Sprint(i), "")
	}
	cases := []struct {
		name, doc string
		want      string // "" = accepted; else a substring of the error
		private   bool
	}{
		{name: "one key per family", doc: set(pub(es.Public(), "a", "ES256"), pub(rs.Public(), "b", "RS256"), pub(rs.Public(), "c", "PS256"), pub(ed.Public(), "d", "EdDSA"))},
		{name: "no alg, no kid", doc: set(pub(es.Public(), "", ""), pub(es2.Public(), "", ""))},
		{name: "enc key skipped", doc: set(pub(es.Public(), "a", ""), `{"kty":"RSA","use":"enc","alg":"RSA-OAEP-256","kid":"e","n":"`+strings.Repeat("A", 342)+`","e":"AQAB"}`)},
		{name: "private EC key", doc: set(jwkJSON(t, jose.JSONWebKey{Key: es, KeyID: "client-2026", Algorithm: "ES256"})), want: `key "client-2026" holds private key material; publish only the public key`, private: true},
		{name: "private RSA key, no kid", doc: set(jwkJSON(t, jose.JSONWebKey{Key: rs, Algorithm: "RS256"})), want: "keys[0] holds private key material", private: true},
		{name: "private Ed25519 key", doc: set(jwkJSON(t, jose.JSONWebKey{Key: ed, KeyID: "ed"})), want: `key "ed" holds private key material`, private: true},
		{name: "symmetric key", doc: set(`{"kty":"oct","kid":"s","k":"c2VjcmV0"}`), want: `key "s" holds private key material`, private: true},
		{name: "duplicate kid", doc: set(pub(es.Public(), "a", ""), pub(es2.Public(), "a", "")), want: `kid "a" is used twice`},
		{name: "alg not allowed", doc: set(pub(rs.Public(), "a", "RS512")), want: `has alg "RS512"; allowed: RS256, PS256, ES256, EdDSA`},
		{name: "alg HS256", doc: set(pub(es.Public(), "a", "HS256")), want: `has alg "HS256"`},
		{name: "alg does not fit key", doc: set(pub(es.Public(), "a", "RS256")), want: "RS256 needs an RSA key"},
		{name: "RSA too small", doc: set(pub(small.Public(), "a", "RS256")), want: "1024 bits"},
		{name: "P-384 fits nothing allowed", doc: set(pub(p384.Public(), "a", "")), want: "fits none of the allowed algorithms"},
		{name: "bad use", doc: set(jwkJSON(t, jose.JSONWebKey{Key: es.Public(), KeyID: "u", Use: "both"})), want: `use "both"`},
		{name: "too many", doc: set(many...), want: "at most 32"},
		{name: "empty", doc: `{"keys":[]}`, want: "empty"},
		{name: "no keys member", doc: `{}`, want: `no "keys"`},
		{name: "not JSON", doc: `[`, want: "not a JSON object"},
		{name: "only enc keys", doc: set(`{"kty":"RSA","use":"enc","kid":"e","n":"` + strings.Repeat("A", 342) + `","e":"AQAB"}`), want: "no signing key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseKeySet([]byte(c.doc), nil)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() == 0 {
					t.Fatal("no keys")
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidKeySet) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want ErrInvalidKeySet with %q", err, c.want)
			}
			if errors.Is(err, ErrPrivateKey) != c.private {
				t.Fatalf("ErrPrivateKey: %v; want %v", errors.Is(err, ErrPrivateKey), c.private)
			}
			if strings.Contains(err.Error(), `"d"`) && strings.Contains(err.Error(), c.doc[20:40]) {
				t.Fatal("the error repeats the key")
			}
		})
	}
	// A narrower allowlist refuses what the default accepts.
	if _, err := ParseKeySet([]byte(set(pub(rs.Public(), "a", "RS256"))), []key.Algorithm{key.PS256, key.ES256, key.EdDSA}); err == nil {
		t.Fatal("RS256 key accepted under a PS256/ES256/EdDSA allowlist")
	}
}

// TestKeySelection: by kid; without a kid, the keys fitting alg, at most four.
func TestKeySelection(t *testing.T) {
	var keys []string
	for i := range 6 {
		keys = append(keys, jwkJSON(t, jose.JSONWebKey{Key: testKey(t, key.ES256).Public(), KeyID: fmt.Sprint("es", i)}))
	}
	keys = append(keys, jwkJSON(t, jose.JSONWebKey{Key: testKey(t, key.EdDSA).Public(), KeyID: "ed"}))
	s, err := ParseKeySet([]byte(`{"keys":[`+strings.Join(keys, ",")+`]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := s.Keys(ctx, "es3", key.ES256)
	if err != nil || len(got) != 1 || got[0].KeyID != "es3" {
		t.Fatalf("by kid: %v %v", got, err)
	}
	if got, err = s.Keys(ctx, "", key.ES256); err != nil || len(got) != maxUntargeted {
		t.Fatalf("no kid: %d keys, %v; want %d", len(got), err, maxUntargeted)
	}
	if got, err = s.Keys(ctx, "", key.EdDSA); err != nil || len(got) != 1 || got[0].KeyID != "ed" {
		t.Fatalf("no kid, EdDSA: %v %v", got, err)
	}
	if _, err = s.Keys(ctx, "", key.RS256); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("no kid, no RSA key: %v", err)
	}
	if _, err = s.Keys(ctx, "ed", key.ES256); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("kid of an Ed25519 key for ES256: %v", err)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), `"d"`) {
		t.Fatal("private member in a selected key")
	}
}
