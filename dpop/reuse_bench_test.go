package dpop

import (
	"crypto/elliptic"
	"testing"
)

// BenchmarkVerifyES256Only is BenchmarkVerify's ES256 case without
// testKeys, whose RSA key generation varies by more than a proof's cost:
// for counting instructions at two N, whose difference cancels the
// set-up.
func BenchmarkVerifyES256Only(b *testing.B) {
	ec := mustEC(elliptic.P256())
	k := testKey{"ES256", ec, ecJWK(&ec.PublicKey, "P-256", 32)}
	v := newVerifier(b, Config{})
	proof := k.sign(k.header(), baseClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(proof, tokenReq); err != nil {
			b.Fatal(err)
		}
	}
}
