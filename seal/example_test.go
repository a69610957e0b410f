package seal_test

import (
	"fmt"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/seal"
)

// Seal a private key for a store and open it again; the first secret
// seals, every secret opens (rotate secrets by putting the new one
// first).
func Example() {
	s, err := seal.New([][]byte{[]byte("the new secret, at least 32 bytes long"), []byte("the old secret, still opens older keys")})
	if err != nil {
		panic(err)
	}
	sealed, err := s.Seal("kid-1", key.ES256, []byte("private key bytes"))
	if err != nil {
		panic(err)
	}
	plain, err := s.Open("kid-1", key.ES256, sealed)
	fmt.Println(string(plain), err)
	_, err = s.Open("kid-2", key.ES256, sealed) // bound to its kid and algorithm
	fmt.Println(err != nil)
	// Output:
	// private key bytes <nil>
	// true
}
