//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"runtime"
	"strconv"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

// storedKey returns a key as the key manager gets it: generated and
// serialized by the pure-Go code (jwk, PKCS#8 DER), then parsed back.
func storedKey(t *testing.T, alg key.Algorithm, bits int) crypto.Signer {
	t.Helper()
	var gen crypto.Signer
	switch {
	case alg.IsRSA():
		gen = rsaKey(t, bits)
	case alg.Family() == key.FamilyEC:
		gen = ecKey(t, alg.Curve())
	default:
		var err error
		if gen, err = jwk.Generate(alg, 0); err != nil {
			t.Fatal(err)
		}
	}
	der, err := jwk.MarshalPrivate(gen)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := jwk.UnmarshalPrivate(der)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// TestFactoryJWSVerifiesWithGoJose: keys stored by the pure-Go build load
// through Factory unchanged, and the tokens jws signs with them verify
// with go-jose, for every algorithm and RSA size.
func TestFactoryJWSVerifiesWithGoJose(t *testing.T) {
	type tc struct {
		alg  key.Algorithm
		bits int
	}
	var cases []tc
	for _, alg := range key.Algorithms() {
		if alg.IsRSA() {
			for _, bits := range []int{2048, 3072, 4096} {
				cases = append(cases, tc{alg, bits})
			}
		} else {
			cases = append(cases, tc{alg, 0})
		}
	}
	pool := testPool(t)
	for _, c := range cases {
		name := c.alg.String()
		if c.bits != 0 {
			name += "/" + strconv.Itoa(c.bits)
		}
		t.Run(name, func(t *testing.T) {
			priv := storedKey(t, c.alg, c.bits)
			signer, err := pool.Factory(c.alg, priv)
			if err != nil {
				t.Fatalf("Factory: %v", err)
			}
			_, wrapped := signer.(*Signer)
			if wrapped != Wraps(c.alg) {
				t.Fatalf("Factory(%s) returned %T; Wraps = %v", c.alg, signer, Wraps(c.alg))
			}
			if !wrapped && !same(signer, priv) {
				t.Fatalf("Factory(%s) did not return the key unchanged", c.alg)
			}
			k, err := jws.NewKey("kid-1", c.alg, signer)
			if err != nil {
				t.Fatal(err)
			}
			payload := []byte(`{"iss":"https://issuer.example","sub":"alice"}`)
			for _, typ := range []string{jws.TypeAccessToken, jws.TypeJWT} {
				token, err := k.Sign(typ, payload)
				if err != nil {
					t.Fatal(err)
				}
				obj, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.alg)})
				if err != nil {
					t.Fatalf("go-jose parse: %v", err)
				}
				got, err := obj.Verify(priv.Public())
				if err != nil {
					t.Fatalf("go-jose rejects the %s token: %v", c.alg, err)
				}
				if string(got) != string(payload) {
					t.Fatalf("payload %q, want %q", got, payload)
				}
			}
		})
	}
}

// same reports whether a and b are the same signer (ed25519 keys are
// slices, which == cannot compare).
func same(a, b crypto.Signer) bool {
	if ea, ok := a.(ed25519.PrivateKey); ok {
		eb, ok := b.(ed25519.PrivateKey)
		return ok && len(ea) > 0 && len(eb) > 0 && &ea[0] == &eb[0]
	}
	return a == b
}

func TestWraps(t *testing.T) {
	for _, alg := range key.Algorithms() {
		if got, want := Wraps(alg), alg.IsRSA() || alg == key.ES512; got != want {
			t.Errorf("Wraps(%s) = %v, want %v", alg, got, want)
		}
	}
	if Wraps("HS256") {
		t.Error("Wraps(HS256) = true")
	}
}

// opaque is a crypto.Signer that is not a key type (an HSM, say).
type opaque struct{ crypto.Signer }

func TestFactoryPassesThroughOtherSigners(t *testing.T) {
	pool := testPool(t)
	rk := rsaKey(t, 2048)
	_, ed, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg  key.Algorithm
		priv crypto.Signer
	}{
		{key.RS256, opaque{rk}},                  // not a key this package imports
		{key.EdDSA, ed},                          // not wrapped
		{key.RS256, ecKey(t, key.ES256.Curve())}, // wrong family: jws reports it
		{key.ES512, ecKey(t, key.ES256.Curve())}, // wrong curve: jws reports it
		{key.ES512, rk},                          // wrong family
	} {
		got, err := pool.Factory(tc.alg, tc.priv)
		if err != nil {
			t.Fatalf("Factory(%s, %T): %v", tc.alg, tc.priv, err)
		}
		if !same(got, tc.priv) {
			t.Fatalf("Factory(%s, %T) = %T, want the signer unchanged", tc.alg, tc.priv, got)
		}
	}
}

// TestFactoryReportsImportErrors: a key that cannot be imported fails the
// factory (and so the key's load), not a later signature.
func TestFactoryReportsImportErrors(t *testing.T) {
	bad := *rsaKey(t, 2048)
	bad.D = new(big.Int).Add(bad.D, big.NewInt(2)) // no longer the private exponent
	bad.Precomputed = rsa.PrecomputedValues{}
	s, err := testPool(t).Factory(key.RS256, &bad)
	if !errors.Is(err, ErrUnsupportedKey) || s != nil {
		t.Fatalf("Factory(inconsistent key) = %v, %v; want ErrUnsupportedKey", s, err)
	}
}

// TestSelfTestCatchesMismatch: a key whose OpenSSL half does not match
// the public key fails New's self-test.
func TestSelfTestCatchesMismatch(t *testing.T) {
	other, err := ecdsa.GenerateKey(key.ES256.Curve(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]crypto.Signer{
		{rsaKey(t, 2048), rsaKey(t, 3072)},
		{ecKey(t, key.ES256.Curve()), other},
	} {
		a := mustNew(t, pair[0])
		if err := a.selfTest(); err != nil {
			t.Fatalf("selfTest on a matching key: %v", err)
		}
		mismatched := &Signer{pub: pair[1].Public(), ec: a.ec, k: a.k}
		if err := mismatched.selfTest(); !errors.Is(err, ErrSelfTest) {
			t.Fatalf("selfTest(%T with another public key) = %v, want ErrSelfTest", pair[0], err)
		}
		runtime.KeepAlive(a) // owns the native key mismatched borrows
	}
}
