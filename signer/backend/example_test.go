package backend_test

import (
	"fmt"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/signer/backend"
)

// Open the signing backend of this build and give its factory to the key
// manager (keymanager.Config.SignerFactory); close it after the last
// signature.
func ExampleOpen() {
	b, err := backend.Open()
	if err != nil {
		panic(err)
	}
	defer b.Close()
	// b.Factory() is nil in the default build (Go's crypto signs) and the
	// OpenSSL signer factory under -tags openssl; EdDSA is Go's in both.
	_ = b.Factory()
	fmt.Println(backend.Name(key.EdDSA))
	// Output: go
}
