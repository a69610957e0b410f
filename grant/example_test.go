package grant_test

import (
	"fmt"

	"github.com/signet-id/signet/grant"
)

// Grants are stored under the hash of the handle a client holds, never the
// handle itself.
func ExampleHashHandle() {
	fmt.Println(len(grant.HashHandle("a random refresh token handle")))
	// Output: 64
}
