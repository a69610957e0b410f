package privatekeyjwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
)

// BenchmarkVerify: Parse and Verify of one ES256 assertion (with a fresh
// jti each time, remembered in a MemoryReplay), beside one raw ES256
// verification: the method's cost over the signature it must check.
func BenchmarkVerify(b *testing.B) {
	ck := newTestClientKeys(b)
	v := newTestVerifier(b, NewMemoryReplay(b.N+1, func() time.Time { return t0 }))
	c := Client{ID: testClient, Keys: ck.set}
	toks := make([]string, b.N)
	for i := range toks {
		claims := validClaims()
		claims["jti"] = fmt.Sprint("jti-", i)
		toks[i] = sign(b, ck.signers["es"], key.ES256, "es", claims)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a, err := v.Parse(toks[i])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, a, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkES256Verify is the floor: one ECDSA P-256 verification.
func BenchmarkES256Verify(b *testing.B) {
	k := testKey(b, key.ES256).(*ecdsa.PrivateKey)
	h := sha256.Sum256([]byte("payload"))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			b.Fatal("verify")
		}
	}
}
