package clientauth

import (
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// benchSecret has the form of a generated secret (43 characters).
const benchSecret = "q8nS0yq4u2VvGk7bXc3dWm1hJ6tY9pZrLfA5eQ2oN0s"

var sinkOK bool

// BenchmarkParseBasic is the client_secret_basic header of the token
// path's fast case.
func BenchmarkParseBasic(b *testing.B) {
	h := "Basic " + base64.StdEncoding.EncodeToString([]byte("billing-service:"+benchSecret))
	b.ReportAllocs()
	for b.Loop() {
		_, _, sinkOK = ParseBasic(h)
	}
}

// BenchmarkVerify is one presented secret checked against each kind of
// configured secret (argon2id after its first success: the cached path).
func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct{ name, conf string }{
		{"sha256", HashSHA256(benchSecret)},
		{"argon2id-cached", cheapArgonPHC(b, benchSecret)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := ParseSecret(tc.conf)
			if err != nil {
				b.Fatal(err)
			}
			if !s.Verify(benchSecret) {
				b.Fatal("Verify failed")
			}
			secrets := []*Secret{s}
			b.ReportAllocs()
			for b.Loop() {
				sinkOK = VerifyAny(secrets, benchSecret)
			}
		})
	}
}

// cheapArgonPHC is an argon2id PHC string with small parameters.
func cheapArgonPHC(tb testing.TB, secret string) string {
	tb.Helper()
	salt := []byte("0123456789abcdef")
	h := argon2.IDKey([]byte(secret), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}
