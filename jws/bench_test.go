package jws_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"strings"
	"testing"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

var benchAlgs = []key.Algorithm{key.RS256, key.PS256, key.ES256, key.EdDSA}

// benchPayload is a typical access token's claims.
var benchPayload = []byte(`{"iss":"https://signet.example","sub":"248289761001","aud":"https://api.example","client_id":"s6BhdRkqt3","exp":1767225600,"iat":1767222000,"jti":"9f0c6a1e-4b7d-4c1a-8a4e-3d2b1c0f9e8d","scope":"openid profile"}`)

var sinkToken string

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			k := newKey(b, "bench-kid", alg, signerFor(alg))
			b.ReportAllocs()
			for b.Loop() {
				token, err := k.Sign(jws.TypeAccessToken, benchPayload)
				if err != nil {
					b.Fatal(err)
				}
				sinkToken = token
			}
		})
	}
}

// BenchmarkSignOverhead compares Key.Sign (jws) with the bare signer.Sign
// call it wraps (raw: the same algorithm and options on a precomputed
// digest, or on the signing input for EdDSA). jws reports the difference as
// overhead-ns/op: hashing, base64url, header selection, the DER to R||S
// conversion for ES*, and the token string. It needs raw to run first, as it
// does by default. For RSA the difference is within the noise of the
// signature itself, so encode measures the same wrapper work directly: Key.Sign
// over a signer that returns a canned signature of the right form.
func BenchmarkSignOverhead(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			signer := signerFor(alg)
			k := newKey(b, "bench-kid", alg, signer)
			token, err := k.Sign(jws.TypeAccessToken, benchPayload)
			if err != nil {
				b.Fatal(err)
			}
			input := []byte(token[:strings.LastIndexByte(token, '.')])
			msg := input
			var opts crypto.SignerOpts = crypto.Hash(0)
			if alg != key.EdDSA {
				h := alg.Hash().New()
				h.Write(input)
				msg = h.Sum(nil)
				opts = alg.Hash()
				if alg.Family() == key.FamilyRSAPSS {
					opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.Hash()}
				}
			}

			canned, err := signer.Sign(rand.Reader, msg, opts)
			if err != nil {
				b.Fatal(err)
			}
			instant := newKey(b, "bench-kid", alg, cannedSigner{pub: signer.Public(), sig: canned})

			var rawNs float64
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := signer.Sign(rand.Reader, msg, opts); err != nil {
						b.Fatal(err)
					}
				}
				rawNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			b.Run("jws", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					token, err := k.Sign(jws.TypeAccessToken, benchPayload)
					if err != nil {
						b.Fatal(err)
					}
					sinkToken = token
				}
				if rawNs > 0 {
					jwsNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(jwsNs-rawNs, "overhead-ns/op")
				}
			})
			b.Run("encode", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					token, err := instant.Sign(jws.TypeAccessToken, benchPayload)
					if err != nil {
						b.Fatal(err)
					}
					sinkToken = token
				}
			})
		})
	}
}

// cannedSigner returns the same signature every time, in no time.
type cannedSigner struct {
	pub crypto.PublicKey
	sig []byte
}

func (c cannedSigner) Public() crypto.PublicKey { return c.pub }
func (c cannedSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return c.sig, nil
}

// BenchmarkAppendSign is the JWS encoding of the token path: AppendSign
// into a reused buffer over a signer that returns a canned signature, so
// what remains is header, base64url, digest and R||S conversion. It
// allocates nothing (the token path reuses its buffers).
func BenchmarkAppendSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			signer := signerFor(alg)
			k := newKey(b, "bench-kid", alg, signer)
			token, err := k.Sign(jws.TypeAccessToken, benchPayload)
			if err != nil {
				b.Fatal(err)
			}
			canned := newKey(b, "bench-kid", alg, cannedSigner{pub: signer.Public(), sig: signatureOf(b, alg, signer, token)})
			buf := make([]byte, 0, canned.SignedLen(jws.TypeAccessToken, len(benchPayload)))
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = canned.AppendSign(buf[:0], jws.TypeAccessToken, benchPayload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// signatureOf returns what signer's Sign returned for token (ASN.1 for
// ECDSA), by signing its signing input again.
func signatureOf(b *testing.B, alg key.Algorithm, signer crypto.Signer, token string) []byte {
	input := []byte(token[:strings.LastIndexByte(token, '.')])
	msg, opts := input, crypto.SignerOpts(crypto.Hash(0))
	if alg != key.EdDSA {
		h := alg.Hash().New()
		h.Write(input)
		msg, opts = h.Sum(nil), alg.Hash()
		if alg.Family() == key.FamilyRSAPSS {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.Hash()}
		}
	}
	sig, err := signer.Sign(rand.Reader, msg, opts)
	if err != nil {
		b.Fatal(err)
	}
	return sig
}
