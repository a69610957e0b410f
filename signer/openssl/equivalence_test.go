//go:build openssl && cgo

package openssl

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"

	"github.com/signet-id/signet/key"
)

const messagesPerCase = 8

// TestRSAEquivalence: for every key size, hash and padding, OpenSSL's
// signatures verify with crypto/rsa and Go's verify with OpenSSL; PKCS#1
// v1.5 signatures, being deterministic, are byte-for-byte equal.
func TestRSAEquivalence(t *testing.T) {
	for _, m := range modes(t) {
		for _, bits := range []int{2048, 3072, 4096} {
			testRSAEquivalence(t, m, bits)
		}
	}
}

func testRSAEquivalence(t *testing.T, m mode, bits int) {
	priv := rsaKey(t, bits)
	s := mustMode(t, m, priv)
	for _, h := range hashes {
		t.Run(fmt.Sprintf("%s/%d/PKCS1v15/%v", m.name, bits, h), func(t *testing.T) {
			for range messagesPerCase {
				d := digest(h, randomMessage(t))
				got, err := s.Sign(rand.Reader, d, h)
				if err != nil {
					t.Fatal(err)
				}
				if err := rsa.VerifyPKCS1v15(&priv.PublicKey, h, d, got); err != nil {
					t.Fatalf("Go rejects OpenSSL's signature: %v", err)
				}
				want, err := rsa.SignPKCS1v15(nil, priv, h, d)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("signatures differ:\nopenssl %x\ngo      %x", got, want)
				}
				if err := s.verify(d, want, h); err != nil {
					t.Fatalf("OpenSSL rejects Go's signature: %v", err)
				}
				if err := s.verify(d, tamper(want), h); err == nil {
					t.Fatal("OpenSSL accepts a tampered signature")
				}
			}
		})
		t.Run(fmt.Sprintf("%s/%d/PSS/%v", m.name, bits, h), func(t *testing.T) {
			for range messagesPerCase {
				d := digest(h, randomMessage(t))
				// Both spellings of "salt length = hash length".
				for _, opts := range []*rsa.PSSOptions{pssOpts(h), {SaltLength: h.Size(), Hash: h}} {
					got, err := s.Sign(rand.Reader, d, opts)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != priv.Size() {
						t.Fatalf("signature is %d bytes, want %d", len(got), priv.Size())
					}
					if err := rsa.VerifyPSS(&priv.PublicKey, h, d, got, pssOpts(h)); err != nil {
						t.Fatalf("Go rejects OpenSSL's PSS signature (salt = hash length): %v", err)
					}
				}
				want, err := rsa.SignPSS(rand.Reader, priv, h, d, pssOpts(h))
				if err != nil {
					t.Fatal(err)
				}
				if err := s.verify(d, want, pssOpts(h)); err != nil {
					t.Fatalf("OpenSSL rejects Go's PSS signature: %v", err)
				}
				if err := s.verify(d, tamper(want), pssOpts(h)); err == nil {
					t.Fatal("OpenSSL accepts a tampered PSS signature")
				}
				// A PSS signature with another salt length is not JWS's.
				other, err := rsa.SignPSS(rand.Reader, priv, h, d, &rsa.PSSOptions{SaltLength: h.Size() - 1, Hash: h})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.verify(d, other, pssOpts(h)); err == nil {
					t.Fatal("OpenSSL accepts a PSS signature whose salt is shorter than the hash")
				}
			}
		})
	}
}

var curves = []struct {
	curve elliptic.Curve
	hash  crypto.Hash
	alg   key.Algorithm
}{
	{elliptic.P256(), crypto.SHA256, key.ES256},
	{elliptic.P384(), crypto.SHA384, key.ES384},
	{elliptic.P521(), crypto.SHA512, key.ES512},
}

// TestECDSAEquivalence: OpenSSL's ECDSA signatures (ASN.1 DER) verify with
// crypto/ecdsa and Go's with OpenSSL, on every curve.
func TestECDSAEquivalence(t *testing.T) {
	for _, m := range modes(t) {
		for _, c := range curves {
			testECDSAEquivalence(t, m, c.curve, c.hash)
		}
	}
}

func testECDSAEquivalence(t *testing.T, m mode, curve elliptic.Curve, h crypto.Hash) {
	t.Run(m.name+"/"+curve.Params().Name, func(t *testing.T) {
		priv := ecKey(t, curve)
		s := mustMode(t, m, priv)
		for range messagesPerCase {
			d := digest(h, randomMessage(t))
			got, err := s.Sign(rand.Reader, d, h)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(&priv.PublicKey, d, got) {
				t.Fatal("Go rejects OpenSSL's ECDSA signature")
			}
			want, err := ecdsa.SignASN1(rand.Reader, priv, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.verify(d, want, h); err != nil {
				t.Fatalf("OpenSSL rejects Go's ECDSA signature: %v", err)
			}
			if err := s.verify(d, tamper(want), h); err == nil {
				t.Fatal("OpenSSL accepts a tampered ECDSA signature")
			}
		}
	})
}

// FuzzEquivalence: for any message and algorithm, the OpenSSL signature
// verifies with Go and Go's with OpenSSL (RSA-2048 and every curve).
func FuzzEquivalence(f *testing.F) {
	f.Add([]byte(""), uint8(0))
	f.Add([]byte("eyJhbGciOiJSUzI1NiJ9.e30"), uint8(3))
	f.Add(bytes.Repeat([]byte{0xff}, 1000), uint8(7))
	type pair struct {
		alg  key.Algorithm
		priv crypto.Signer
		s    *Signer
	}
	var pairs []pair // every algorithm in both modes
	for _, m := range modes(f) {
		rs := mustMode(f, m, rsaKey(f, 2048))
		for _, alg := range []key.Algorithm{key.RS256, key.RS384, key.RS512, key.PS256, key.PS384, key.PS512} {
			pairs = append(pairs, pair{alg, rsaKey(f, 2048), rs})
		}
		for _, c := range curves {
			p := ecKey(f, c.curve)
			pairs = append(pairs, pair{c.alg, p, mustMode(f, m, p)})
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte, which uint8) {
		p := pairs[int(which)%len(pairs)]
		h := p.alg.Hash()
		d := digest(h, msg)
		var opts crypto.SignerOpts = h
		if p.alg.Family() == key.FamilyRSAPSS {
			opts = pssOpts(h)
		}
		sig, err := p.s.Sign(rand.Reader, d, opts)
		if err != nil {
			t.Fatal(err)
		}
		goSig, err := p.priv.Sign(rand.Reader, d, opts)
		if err != nil {
			t.Fatal(err)
		}
		switch pub := p.priv.Public().(type) {
		case *rsa.PublicKey:
			if p.alg.Family() == key.FamilyRSAPSS {
				err = rsa.VerifyPSS(pub, h, d, sig, pssOpts(h))
			} else {
				err = rsa.VerifyPKCS1v15(pub, h, d, sig)
				if err == nil && !bytes.Equal(sig, goSig) {
					err = fmt.Errorf("PKCS#1 v1.5 signatures differ")
				}
			}
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, d, sig) {
				err = fmt.Errorf("ECDSA signature does not verify")
			}
		}
		if err != nil {
			t.Fatalf("%s: Go rejects OpenSSL's signature: %v", p.alg, err)
		}
		if err := p.s.verify(d, goSig, opts); err != nil {
			t.Fatalf("%s: OpenSSL rejects Go's signature: %v", p.alg, err)
		}
	})
}
