//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"

	"github.com/signet-id/signet/key"
)

// Wraps reports whether [Factory] moves alg to OpenSSL: RS*, PS* and ES512,
// where OpenSSL measured faster than Go (BenchmarkRSA2048, BenchmarkEC;
// numbers in docs/openssl.md). ES256 (on par through cgo), ES384 (Go about
// three times faster) and EdDSA stay with Go.
func Wraps(alg key.Algorithm) bool {
	return alg.IsRSA() || alg == key.ES512
}

// Factory matches keymanager.SignerFactory. For an algorithm [Wraps]
// reports and a key of its kind (*rsa.PrivateKey, or *ecdsa.PrivateKey on
// the algorithm's curve) it returns a [Signer] (see [New]); for every other
// algorithm or key (an HSM's signer, say) it returns priv unchanged. It
// is called once per key, when the key manager loads the key into its
// snapshot.
func Factory(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
	if !Wraps(alg) || !fits(alg, priv) {
		return priv, nil
	}
	s, err := New(priv)
	if err != nil {
		return nil, fmt.Errorf("openssl: import %s key: %w", alg, err)
	}
	return s, nil
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
