//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/rand"
	"testing"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

// benchSign measures one crypto.Signer on a digest of alg, the call jws
// makes per token, and reports signatures per second.
func benchSign(b *testing.B, alg key.Algorithm, s crypto.Signer) {
	h := alg.Hash()
	d := digest(h, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9"))
	var opts crypto.SignerOpts = h
	if alg.Family() == key.FamilyRSAPSS {
		opts = pssOpts(h)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(rand.Reader, d, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
}

// backends returns the Go key, its OpenSSL Signer on the caller's thread
// ("openssl") and on a Pool's ("openssl-pool").
func backends(b *testing.B, priv crypto.Signer) map[string]crypto.Signer {
	return map[string]crypto.Signer{"go": priv, "openssl": mustNew(b, priv),
		"openssl-pool": mustMode(b, mode{"pool", testPool(b).New}, priv)}
}

var backendNames = []string{"go", "openssl", "openssl-pool"}

// BenchmarkRSA2048 compares crypto/rsa with OpenSSL for RS256 and PS256.
// Run pinned to one core (docs/openssl.md):
//
//	taskset -c 1 go test -tags openssl -run XXX -bench . -benchtime 2s ./signer/openssl/
func BenchmarkRSA2048(b *testing.B) {
	signers := backends(b, rsaKey(b, 2048))
	for _, backend := range backendNames {
		for _, alg := range []key.Algorithm{key.RS256, key.PS256} {
			b.Run(backend+"/"+alg.String(), func(b *testing.B) { benchSign(b, alg, signers[backend]) })
		}
	}
}

// BenchmarkEC compares crypto/ecdsa with OpenSSL on every curve; it is
// the measurement behind Wraps leaving ES* with Go.
func BenchmarkEC(b *testing.B) {
	for _, backend := range []string{"go", "openssl"} {
		for _, c := range curves {
			signers := backends(b, ecKey(b, c.curve))
			b.Run(backend+"/"+c.alg.String(), func(b *testing.B) { benchSign(b, c.alg, signers[backend]) })
		}
	}
}

// BenchmarkTokenRS256 signs a typical access token through jws.Key, as
// the token endpoint does (header and payload encoding, SHA-256, RSA).
func BenchmarkTokenRS256(b *testing.B) {
	payload := []byte(`{"iss":"https://issuer.example","sub":"248289761001","aud":"s6BhdRkqt3","client_id":"s6BhdRkqt3","exp":1311281970,"iat":1311280970,"jti":"4d6a7f51-2c3b-4bde-9d5e-2f1c0a3b5e6f","scope":"openid profile"}`)
	signers := backends(b, rsaKey(b, 2048))
	for _, backend := range backendNames {
		b.Run(backend, func(b *testing.B) {
			k, err := jws.NewKey("kid-1", key.RS256, signers[backend])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Sign(jws.TypeAccessToken, payload); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkRSA2048Parallel signs RS256 from every P at once (unpinned, it
// shows how each backend scales across cores).
func BenchmarkRSA2048Parallel(b *testing.B) {
	signers := backends(b, rsaKey(b, 2048))
	d := digest(crypto.SHA256, []byte("m"))
	for _, backend := range backendNames {
		b.Run(backend, func(b *testing.B) {
			s := signers[backend]
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Sign(rand.Reader, d, crypto.SHA256); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
		})
	}
}
