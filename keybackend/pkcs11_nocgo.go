//go:build !cgo

package keybackend

import "fmt"

func openPKCS11(Config) (Backend, error) {
	return nil, fmt.Errorf("%w: keyBackend.type pkcs11: %w", ErrConfig, ErrNoCgo)
}
