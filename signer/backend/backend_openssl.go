//go:build openssl && cgo

package backend

import (
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/signer/openssl"
)

// The openssl build: the algorithms openssl.Wraps reports sign through
// libcrypto.

func factory() signerFactory { return openssl.Factory }

func wraps(alg key.Algorithm) bool { return openssl.Wraps(alg) }

func libraryVersion() string { return openssl.Version() }
