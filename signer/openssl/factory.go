//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"

	"github.com/signet-id/signet/key"
)

// Wraps reports whether [Pool.Factory] moves alg to OpenSSL: RS*, PS* and ES512,
// where OpenSSL measured faster than Go (BenchmarkRSA2048, BenchmarkEC;
// numbers in docs/openssl.md). ES256 (on par through cgo), ES384 (Go about
// three times faster) and EdDSA stay with Go.
func Wraps(alg key.Algorithm) bool {
	return alg.IsRSA() || alg == key.ES512
}

// fits reports whether priv is a key New imports and alg signs with.
func fits(alg key.Algorithm, priv crypto.Signer) bool {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		return alg.IsRSA()
	case *ecdsa.PrivateKey:
		return alg.Family() == key.FamilyEC && p.Curve == alg.Curve()
	}
	return false
}
