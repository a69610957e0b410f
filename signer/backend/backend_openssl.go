//go:build openssl && cgo

package backend

import (
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/signer/openssl"
)

// The openssl build: the algorithms openssl.Wraps reports sign through
// libcrypto, on the threads of one openssl.Pool.

func open() (*Backend, error) {
	p, err := openssl.NewPool(0)
	if err != nil {
		return nil, err
	}
	return &Backend{factory: p.Factory, close: p.Close}, nil
}

func wraps(alg key.Algorithm) bool { return openssl.Wraps(alg) }

func libraryVersion() string { return openssl.Version() }
