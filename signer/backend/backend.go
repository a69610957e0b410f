package backend

import (
	"crypto"
	"strings"

	"github.com/signet-id/signet/key"
)

// Backend names, as [Name] returns them.
const (
	Go      = "go"
	OpenSSL = "openssl"
)

// signerFactory is keymanager.SignerFactory's underlying type, spelled out
// so that this package need not import keymanager; an unnamed func type is
// assignable to keymanager.Config.SignerFactory.
type signerFactory = func(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error)

// Factory returns the signer factory for keymanager.Config.SignerFactory:
// nil in the pure-Go build (each key signs itself), OpenSSL's in the
// openssl build. The factory is called once per key, when the key manager
// loads it.
func Factory() func(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
	return factory()
}

// Name returns the backend that signs alg, [Go] or [OpenSSL], for keys
// that pass through [Factory] (the key manager's managed keys).
// Algorithms this build does not move to OpenSSL, unknown ones included,
// are Go's.
func Name(alg key.Algorithm) string {
	if wraps(alg) {
		return OpenSSL
	}
	return Go
}

// Description is one line for `signet version`, e.g.
//
//	signing backend: go
//	signing backend: openssl (OpenSSL 3.0.19 27 Jan 2026) for RS256, ...; go for ES256, ...
func Description() string {
	var ossl, native []string
	for _, alg := range key.Algorithms() {
		if Name(alg) == OpenSSL {
			ossl = append(ossl, alg.String())
		} else {
			native = append(native, alg.String())
		}
	}
	if len(ossl) == 0 {
		return "signing backend: " + Go
	}
	return "signing backend: " + OpenSSL + " (" + libraryVersion() + ") for " +
		strings.Join(ossl, ", ") + "; " + Go + " for " + strings.Join(native, ", ")
}
