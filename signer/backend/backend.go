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

// Backend is this build's signing backend, open. Open it once per process,
// give [Backend.Factory] to the key manager, and Close it after the key
// manager's last signature (the openssl build runs signing threads).
type Backend struct {
	factory signerFactory
	close   func() error
}

// Open starts the backend: nothing in the pure-Go build; OpenSSL's
// signing threads (one per GOMAXPROCS) in the openssl build.
func Open() (*Backend, error) { return open() }

// Factory returns the signer factory for keymanager.Config.SignerFactory:
// nil in the pure-Go build (each key signs itself), OpenSSL's in the
// openssl build. The factory is called once per key, when the key manager
// loads it.
func (b *Backend) Factory() func(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
	return b.factory
}

// Close stops the backend; signers it made fail afterwards. Closing twice
// is a no-op.
func (b *Backend) Close() error {
	if b.close == nil {
		return nil
	}
	return b.close()
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
