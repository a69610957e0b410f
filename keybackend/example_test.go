package keybackend_test

import (
	"errors"
	"fmt"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
)

// Whether a backend type makes keys of an algorithm, before configuring
// it.
func ExampleSupports() {
	fmt.Println(keybackend.Supports(keybackend.Software, key.EdDSA, 0))
	fmt.Println(errors.Is(keybackend.Supports(keybackend.PKCS11, key.EdDSA, 0), keybackend.ErrUnsupported))
	// Output:
	// <nil>
	// true
}
