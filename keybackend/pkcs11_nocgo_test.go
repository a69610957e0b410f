//go:build !cgo

package keybackend_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/signet-id/signet/keybackend"
)

// TestPKCS11WithoutCgo: a CGO_ENABLED=0 build compiles, and choosing
// pkcs11 is a configuration error that says why and what to do.
func TestPKCS11WithoutCgo(t *testing.T) {
	_, err := keybackend.Open(context.Background(), keybackend.Config{Type: "pkcs11", Module: "/m.so", TokenLabel: "t", Pin: "p"})
	if !errors.Is(err, keybackend.ErrNoCgo) || !errors.Is(err, keybackend.ErrConfig) || !strings.Contains(err.Error(), "this signet was built without cgo; PKCS#11 needs") {
		t.Fatalf("Open(pkcs11) = %v; want the no-cgo configuration error", err)
	}
}
