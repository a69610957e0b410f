package jwsverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Verify accepts what go-jose signed and go-jose's own verification
// accepts, and refuses a changed signature, a changed input, another
// key, a key of another type or curve, and an alg it does not know.
func TestVerifyAgreesWithGoJose(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		alg  jose.SignatureAlgorithm
		priv crypto.Signer
		pub  any
	}{
		{jose.ES256, ec256, &ec256.PublicKey}, {jose.ES384, ec384, &ec384.PublicKey}, {jose.ES512, ec521, &ec521.PublicKey},
		{jose.RS256, rk, &rk.PublicKey}, {jose.RS384, rk, &rk.PublicKey}, {jose.RS512, rk, &rk.PublicKey},
		{jose.PS256, rk, &rk.PublicKey}, {jose.PS384, rk, &rk.PublicKey}, {jose.PS512, rk, &rk.PublicKey},
		{jose.EdDSA, ed, ed.Public()},
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: tc.priv}, nil)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := s.Sign([]byte(`{"jti":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			compact, _ := obj.CompactSerialize()
			parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{tc.alg})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parsed.Verify(tc.pub); err != nil {
				t.Fatalf("go-jose refuses its own signature: %v", err)
			}
			i := strings.LastIndexByte(compact, '.')
			input, sig := []byte(compact[:i]), parsed.Signatures[0].Signature
			alg := string(tc.alg)
			if err := Verify(alg, tc.pub, input, sig); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			bad := append([]byte(nil), sig...)
			bad[len(bad)/2] ^= 1
			changed := append([]byte(nil), input...)
			changed[len(changed)-2] ^= 1
			var otherType any = ed.Public()
			if alg == "EdDSA" {
				otherType = &ec256.PublicKey
			}
			for name, err := range map[string]error{
				"changed signature": Verify(alg, tc.pub, input, bad),
				"changed input":     Verify(alg, tc.pub, changed, sig),
				"short signature":   Verify(alg, tc.pub, input, sig[:len(sig)-1]),
				"another key":       Verify(alg, &other.PublicKey, input, sig),
				"another key type":  Verify(alg, otherType, input, sig),
			} {
				if !errors.Is(err, ErrSignature) {
					t.Errorf("%s: %v, want ErrSignature", name, err)
				}
			}
		})
	}
	if err := Verify("HS256", []byte("secret"), []byte("a.b"), []byte("x")); err == nil || errors.Is(err, ErrSignature) {
		t.Errorf("HS256: %v, want an unknown alg", err)
	}
	if err := Verify("ES256", &ec384.PublicKey, []byte("a.b"), make([]byte, 64)); !errors.Is(err, ErrSignature) {
		t.Errorf("ES256 with a P-384 key: %v, want ErrSignature", err)
	}
}

// A Cache holds at most its entries and no key beyond its length.
func TestCacheBounded(t *testing.T) {
	c := NewCache[int](3, 4)
	for i, k := range []string{"a", "b", "c", "d", "e"} {
		c.Put(k, i)
	}
	c.Put("toolong", 9)
	if c.Len() != 3 {
		t.Fatalf("%d entries, want 3", c.Len())
	}
	if _, ok := c.Get("toolong"); ok {
		t.Fatal("a key beyond the length was remembered")
	}
	if v, ok := c.Get("e"); !ok || v != 4 {
		t.Fatalf("the last key: %d, %v", v, ok)
	}
}

// Split takes three canonical segments only.
func TestSplit(t *testing.T) {
	input, payload, sig, ok := Split("aGk.eyJ9.AQI")
	if !ok || input != "aGk.eyJ9" || string(payload) != `{"}` || len(sig) != 2 {
		t.Fatalf("Split: %q %q %v %v", input, payload, sig, ok)
	}
	for _, bad := range []string{"aGk.eyJ9", "aGk.eyJ9.AQI.x", "aGk.eyJ9.AQI=", "aGk.eyJ9.AQJ", "aGk.eyK.AQI", "aGk.eyJ9.A"} {
		if _, _, _, ok := Split(bad); ok {
			t.Errorf("Split(%q) accepted", bad)
		}
	}
}
