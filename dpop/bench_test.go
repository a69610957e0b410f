package dpop

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// BenchmarkVerify is the cost of one proof verification per algorithm,
// beside BenchmarkES256Floor, the bare ECDSA P-256 verification it
// contains: the difference is parsing, the claim checks and the
// thumbprint.
func BenchmarkVerify(b *testing.B) {
	ks := testKeys(b)
	v := newVerifier(b, Config{})
	for _, alg := range DefaultAlgorithms() {
		k := ks[alg]
		proof := k.sign(k.header(), baseClaims())
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(proof, tokenReq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyRefusedEarly: a proof refused by a claim check costs no
// signature verification.
func BenchmarkVerifyRefusedEarly(b *testing.B) {
	k := testKeys(b)["ES256"]
	c := baseClaims()
	c["htm"] = "GET"
	proof := k.sign(k.header(), c)
	v := newVerifier(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(proof, tokenReq); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkES256Floor(b *testing.B) {
	k := testKeys(b)["ES256"].signer.(*ecdsa.PrivateKey)
	h := sha256.Sum256([]byte("input"))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			b.Fatal("bad signature")
		}
	}
}

func BenchmarkNonceCheck(b *testing.B) {
	n, _ := NewNonces(secretA, 0, fixedClock(t0))
	nonce := n.Current()
	b.ReportAllocs()
	for b.Loop() {
		if err := n.Check(nonce); err != nil {
			b.Fatal(err)
		}
	}
}
