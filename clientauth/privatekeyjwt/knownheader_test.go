package privatekeyjwt

import (
	"crypto"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
)

var knownAlgs = []key.Algorithm{key.ES256, key.RS256, key.PS256, key.EdDSA}

// keySetOf returns the client's key set of kid → k.
func keySetOf(t *testing.T, kid string, k crypto.Signer, alg key.Algorithm) KeySet {
	t.Helper()
	ks, err := ParseKeySet(publicJWKS(t, map[string]crypto.Signer{kid: k}, map[string]key.Algorithm{kid: alg}), knownAlgs)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// withJTI returns the valid claims with another jti.
func withJTI(jti string) map[string]any {
	c := validClaims()
	c["jti"] = jti
	return c
}

// An assertion whose header segment verified before is parsed without
// go-jose and verifies to the same claims; a header whose signature
// failed is not remembered.
func TestKnownHeaderRemembered(t *testing.T) {
	for _, alg := range knownAlgs {
		t.Run(string(alg), func(t *testing.T) {
			k := testKey(t, alg)
			c := Client{ID: testClient, Keys: keySetOf(t, "k1", k, alg)}
			v := newTestVerifier(t, nil)
			if alg == key.ES256 {
				forged := sign(t, testKey(t, key.ES256), alg, "k1", withJTI("forged"))
				if a, err := v.Parse(forged); err == nil {
					if _, err := v.Verify(t.Context(), a, c); !errors.Is(err, ErrSignature) {
						t.Fatalf("another key's signature: %v", err)
					}
				}
				if v.headers.Len() != 0 {
					t.Fatal("the header of an assertion whose signature failed was remembered")
				}
			}
			first, err := v.Parse(sign(t, k, alg, "k1", withJTI("1")))
			if err != nil || first.sig == nil {
				t.Fatalf("first assertion: %v (parsed by go-jose: %v)", err, first != nil && first.sig != nil)
			}
			if _, err := v.Verify(t.Context(), first, c); err != nil {
				t.Fatal(err)
			}
			if v.headers.Len() != 1 {
				t.Fatalf("%d remembered headers, want 1", v.headers.Len())
			}
			second, err := v.Parse(sign(t, k, alg, "k1", withJTI("2")))
			if err != nil {
				t.Fatal(err)
			}
			if second.sig != nil {
				t.Fatal("the second assertion of the same header was parsed by go-jose again")
			}
			got, err := v.Verify(t.Context(), second, c)
			if err != nil || got.KeyID != "k1" || got.Algorithm != alg || got.JTI != "2" || got.ClientID != testClient || !got.Expiry.Equal(t0.Add(time.Minute)) {
				t.Fatalf("second assertion: %+v, %v", got, err)
			}
		})
	}
}

// Every assertion is judged alike by a Verifier that remembers its header
// and by one that has go-jose parse it: forged, truncated, padded or
// non-canonical signatures and segments, claims breaking a rule, replays,
// and a key the client no longer has.
func TestKnownHeaderJudgesLikeGoJose(t *testing.T) {
	for _, alg := range knownAlgs {
		t.Run(string(alg), func(t *testing.T) {
			k := testKey(t, alg)
			ks := keySetOf(t, "k1", k, alg)
			valid := sign(t, k, alg, "k1", withJTI("case"))
			parts := strings.Split(valid, ".")
			sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
			flipped := append([]byte(nil), sig...)
			flipped[len(flipped)/2] ^= 1
			enc := base64.RawURLEncoding.EncodeToString
			change := func(name string, v any) string {
				c := withJTI("case")
				if v == nil {
					delete(c, name)
				} else {
					c[name] = v
				}
				return sign(t, k, alg, "k1", c)
			}
			other := testKey(t, key.ES256) // a new key: k is not in its set
			cases := map[string]struct {
				assertion string
				keys      KeySet
			}{
				"valid":             {valid, ks},
				"flipped signature": {parts[0] + "." + parts[1] + "." + enc(flipped), ks},
				"short signature":   {parts[0] + "." + parts[1] + "." + enc(sig[:len(sig)-1]), ks},
				"padded signature":  {valid + "==", ks},
				"no signature":      {parts[0] + "." + parts[1] + ".", ks},
				"four parts":        {valid + ".x", ks},
				"swapped claims":    {parts[0] + "." + strings.Split(change("aud", testTokenURL), ".")[1] + "." + parts[2], ks},
				"claims not JSON":   {parts[0] + "." + enc([]byte("{")) + "." + parts[2], ks},
				"sub":               {change("sub", "other"), ks},
				"aud":               {change("aud", "https://other.example"), ks},
				"exp past":          {change("exp", t0.Add(-time.Hour).Unix()), ks},
				"no jti":            {change("jti", nil), ks},
				"no iss":            {change("iss", nil), ks},
				"key removed":       {valid, keySetOf(t, "k1", other, key.ES256)},
				"non-canonical":     {parts[0] + "." + parts[1][:len(parts[1])-1] + nonCanonicalLast(parts[1]) + "." + parts[2], ks},
			}
			for name, tc := range cases {
				warm, cold := newTestVerifier(t, nil), newTestVerifier(t, nil)
				c := Client{ID: testClient, Keys: ks}
				a, err := warm.Parse(sign(t, k, alg, "k1", withJTI("warm-up")))
				if err == nil {
					_, err = warm.Verify(t.Context(), a, c)
				}
				if err != nil || warm.headers.Len() != 1 {
					t.Fatalf("warm-up: %v, %d remembered headers", err, warm.headers.Len())
				}
				hotErr, fullErr := judge(t, warm, tc.assertion, Client{ID: testClient, Keys: tc.keys}), judge(t, cold, tc.assertion, Client{ID: testClient, Keys: tc.keys})
				if (hotErr == nil) != (fullErr == nil) || (fullErr != nil && hotErr.Error() != fullErr.Error() && !sameRule(hotErr, fullErr)) {
					t.Errorf("%s: remembered header: %v; go-jose: %v", name, hotErr, fullErr)
				}
				if (name == "valid") != (fullErr == nil) && name != "non-canonical" {
					t.Errorf("%s: %v", name, fullErr)
				}
				// A replay is refused on both paths.
				if fullErr == nil {
					if err := judge(t, warm, tc.assertion, Client{ID: testClient, Keys: tc.keys}); !errors.Is(err, ErrReplayed) {
						t.Errorf("%s replayed: %v, want ErrReplayed", name, err)
					}
				}
			}
		})
	}
}

// judge parses and verifies assertion for c.
func judge(t *testing.T, v *Verifier, assertion string, c Client) error {
	t.Helper()
	a, err := v.Parse(assertion)
	if err != nil {
		return err
	}
	_, err = v.Verify(t.Context(), a, c)
	return err
}

// sameRule reports whether a and b wrap the same sentinel of the package.
func sameRule(a, b error) bool {
	for _, s := range []error{ErrTooLarge, ErrMalformed, ErrAlgorithm, ErrIssuer, ErrSubject, ErrAudience, ErrExpired, ErrLifetime,
		ErrNotYetValid, ErrMissingJTI, ErrUnknownKey, ErrSignature, ErrReplayed} {
		if errors.Is(a, s) != errors.Is(b, s) {
			return false
		}
	}
	return true
}

// nonCanonicalLast returns the last character of the base64url segment
// s with its unused low bits set, when it has any.
func nonCanonicalLast(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	switch len(s) % 4 {
	case 2:
		return string(alphabet[i|0x0f])
	case 3:
		return string(alphabet[i|0x03])
	}
	return s[len(s)-1:]
}
