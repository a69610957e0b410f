// Package testkeys holds private keys for tests, generated once per test
// binary and shared (RSA generation would dominate the run time otherwise).
// Never use them outside tests.
package testkeys

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"

	"github.com/signet-id/signet/key"
)

// Once returns a function that generates a key on first use and returns
// the same key after that. A generation error panics: it means the
// machine's randomness is broken.
func Once[K any](gen func() (K, error)) func() K {
	return sync.OnceValue(func() K {
		k, err := gen()
		if err != nil {
			panic(err)
		}
		return k
	})
}

// Shared keys, one of each kind Signet signs with, plus an X25519 key
// (a key type Signet must refuse).
var (
	RSA2048 = Once(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	P256    = Once(func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	P384    = Once(func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) })
	P521    = Once(func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) })
	Ed25519 = Once(func() (ed25519.PrivateKey, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err })
	X25519  = Once(func() (*ecdh.PrivateKey, error) { return ecdh.X25519().GenerateKey(rand.Reader) })
)

// For returns the shared key that fits alg (RSA 2048 for RS* and PS*).
func For(alg key.Algorithm) crypto.Signer {
	switch alg {
	case key.ES256:
		return P256()
	case key.ES384:
		return P384()
	case key.ES512:
		return P521()
	case key.EdDSA:
		return Ed25519()
	}
	return RSA2048()
}
