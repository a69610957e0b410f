package dpop

import (
	"errors"
	"strings"
	"testing"
)

// allAlgs are the algorithms of testKeys.
var allAlgs = []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"}

// A proof whose header segment verified before takes the remembered
// header's path (no go-jose parse) and gives the same Proof as the full
// path: thumbprint, key, alg, jti, times.
func TestHeaderCacheRemembersVerifiedHeaders(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testKeys(t)[alg]
			warm, cold := newVerifier(t, Config{Algorithms: allAlgs}), newVerifier(t, Config{Algorithms: allAlgs})
			if _, err := warm.Verify(k.sign(k.header(), baseClaims()), tokenReq); err != nil {
				t.Fatal(err)
			}
			if warm.headers.Len() != 1 {
				t.Fatalf("%d remembered headers after a verified proof, want 1", warm.headers.Len())
			}
			c := baseClaims()
			c["jti"] = "second"
			proof := k.sign(k.header(), c)
			if _, ok := warm.headers.Get(strings.Split(proof, ".")[0]); !ok {
				t.Fatal("the second proof's header segment is not the remembered one")
			}
			hot, err := warm.Verify(proof, tokenReq)
			if err != nil {
				t.Fatal(err)
			}
			full, err := cold.Verify(proof, tokenReq)
			if err != nil {
				t.Fatal(err)
			}
			if hot.Thumbprint != full.Thumbprint || hot.Algorithm != full.Algorithm || hot.JTI != full.JTI ||
				!hot.IssuedAt.Equal(full.IssuedAt) || !hot.Expires.Equal(full.Expires) || !hot.Key.Valid() || !hot.Key.IsPublic() {
				t.Fatalf("remembered header: %+v; full path: %+v", hot, full)
			}
			if ht, _ := Thumbprint(&hot.Key); ht != full.Thumbprint {
				t.Fatalf("the remembered key's thumbprint %s, want %s", ht, full.Thumbprint)
			}
		})
	}
}

// Every proof is judged alike by a verifier that remembers its header
// and by one that parses it in full: the same error (or none), for forged
// signatures, another key's signature, truncated or padded segments,
// claims that break a rule, and the alg of another verifier.
func TestHeaderCacheJudgesLikeTheFullPath(t *testing.T) {
	keys := testKeys(t)
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			k := keys[alg]
			other := keys["ES256"]
			if alg == "ES256" {
				other = testKey{"ES256", mustEC(ellipticP256()), nil}
			}
			valid := k.sign(k.header(), baseClaims())
			parts := strings.Split(valid, ".")
			with := func(change func(map[string]any)) string {
				c := baseClaims()
				c["jti"] = "changed"
				change(c)
				return k.sign(k.header(), c)
			}
			forgedBy := func(s testKey) string {
				input := parts[0] + "." + parts[1]
				return input + "." + b64.EncodeToString(testKey{alg, s.signer, nil}.sigOver(input))
			}
			flip := []byte(parts[2])
			flip[3] ^= 1
			sig, _ := b64.DecodeString(parts[2])
			cases := map[string]string{
				"valid":               valid,
				"bit of signature":    parts[0] + "." + parts[1] + "." + string(flip),
				"another key":         forgedBy(other),
				"short signature":     parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig[:len(sig)-1]),
				"long signature":      parts[0] + "." + parts[1] + "." + b64.EncodeToString(append(sig, 0)),
				"padded signature":    valid + "==",
				"no signature":        parts[0] + "." + parts[1] + ".",
				"swapped claims":      parts[0] + "." + strings.Split(with(func(map[string]any) {}), ".")[1] + "." + parts[2],
				"htm":                 with(func(c map[string]any) { c["htm"] = "GET" }),
				"htu":                 with(func(c map[string]any) { c["htu"] = "https://other.example/token" }),
				"iat":                 with(func(c map[string]any) { c["iat"] = t0.Unix() - 3600 }),
				"no jti":              with(func(c map[string]any) { delete(c, "jti") }),
				"claims not JSON":     k.signRaw(mustJSON(k.header()), []byte("{")),
				"four parts":          valid + ".x",
				"non-canonical claim": parts[0] + "." + parts[1][:len(parts[1])-1] + nonCanonical(parts[1]) + "." + parts[2],
			}
			for name, proof := range cases {
				warm, cold := newVerifier(t, Config{Algorithms: allAlgs}), newVerifier(t, Config{Algorithms: allAlgs})
				c := baseClaims()
				c["jti"] = "warm-up"
				if _, err := warm.Verify(k.sign(k.header(), c), tokenReq); err != nil || warm.headers.Len() != 1 {
					t.Fatalf("warm-up: %v, %d remembered headers", err, warm.headers.Len())
				}
				_, hotErr := warm.Verify(proof, tokenReq)
				_, fullErr := cold.Verify(proof, tokenReq)
				if (hotErr == nil) != (fullErr == nil) || (fullErr != nil && !sameSentinel(hotErr, fullErr)) {
					t.Errorf("%s: remembered header: %v; full path: %v", name, hotErr, fullErr)
				}
				if name == "valid" && hotErr != nil {
					t.Errorf("valid: %v", hotErr)
				}
				if name != "valid" && fullErr == nil && name != "non-canonical claim" {
					t.Errorf("%s: accepted", name)
				}
			}
			// A verifier that does not allow alg never takes the path.
			strict := newVerifier(t, Config{Algorithms: []string{"ES384"}})
			if alg != "ES384" {
				if _, err := strict.Verify(valid, tokenReq); !errors.Is(err, ErrAlgorithm) {
					t.Errorf("alg %s at a verifier allowing ES384 only: %v", alg, err)
				}
			}
		})
	}
}

// nonCanonical returns the last character of the base64url segment s
// with its unused low bits set, when it has any: the same bytes to a
// lenient decoder, another segment to a strict one.
func nonCanonical(s string) string {
	last := s[len(s)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	switch len(s) % 4 {
	case 2:
		return string(alphabet[i|0x0f])
	case 3:
		return string(alphabet[i|0x03])
	}
	return string(last)
}

// sameSentinel reports whether a and b wrap the same one of the package's
// errors.
func sameSentinel(a, b error) bool {
	for _, s := range []error{ErrTooLarge, ErrMalformed, ErrType, ErrAlgorithm, ErrKey, ErrPrivateKey, ErrJTI, ErrHTM, ErrHTU, ErrIssuedAt, ErrATH, ErrNonce, ErrSignature} {
		if errors.Is(a, s) != errors.Is(b, s) {
			return false
		}
	}
	return true
}
