package privatekeyjwt

import (
	"context"
	"crypto"
	"fmt"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
)

// forgetful is a Replay that remembers nothing: the method's own cost.
type forgetful struct{}

func (forgetful) UseOnce(context.Context, string, time.Time) error { return nil }

// BenchmarkVerifyReused is BenchmarkVerify over 64 assertions signed
// once and used in turn, with a Replay that remembers nothing: no
// signing per operation, so that counting instructions at two N (the
// difference cancels the set-up) measures Parse and Verify alone. The
// client's key is ECDSA only: generating an RSA key varies by more than
// the whole difference.
func BenchmarkVerifyReused(b *testing.B) {
	k := testKey(b, key.ES256) // no RSA key: its generation's cost varies
	ks, err := ParseKeySet(publicJWKS(b, map[string]crypto.Signer{"es": k}, map[string]key.Algorithm{"es": key.ES256}), nil)
	if err != nil {
		b.Fatal(err)
	}
	v := newTestVerifier(b, forgetful{})
	c := Client{ID: testClient, Keys: ks}
	toks := make([]string, 64)
	for i := range toks {
		claims := validClaims()
		claims["jti"] = fmt.Sprint("jti-", i)
		toks[i] = sign(b, k, key.ES256, "es", claims)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a, err := v.Parse(toks[i%len(toks)])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, a, c); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
