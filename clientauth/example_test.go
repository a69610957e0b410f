package clientauth_test

import (
	"fmt"

	"github.com/signet-id/signet/clientauth"
)

// Store a client secret as a hash and verify a presented one.
func ExampleParseSecret() {
	s, err := clientauth.ParseSecret(clientauth.HashSHA256("a long random client secret"))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Verify("a long random client secret"), s.Verify("a guess"))
	// Output: true false
}

// Read client credentials from an Authorization header (RFC 6749 2.3.1).
func ExampleParseBasic() {
	id, secret, ok := clientauth.ParseBasic("Basic YmlsbGluZzpzM2NyM3Q=")
	fmt.Println(id, secret, ok)
	// Output: billing s3cr3t true
}
