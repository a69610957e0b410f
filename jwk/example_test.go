package jwk_test

import (
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
)

// Generate a key and publish its public half in a JWK set.
func Example() {
	priv, err := jwk.Generate(key.ES256, 0)
	if err != nil {
		panic(err)
	}
	pub, err := jwk.Public("kid-1", key.ES256, priv.Public(), nil)
	if err != nil {
		panic(err)
	}
	set, err := jwk.EncodeSet([]jose.JSONWebKey{pub})
	if err != nil {
		panic(err)
	}
	fmt.Println(pub.KeyID, pub.Algorithm, pub.Use, len(set) > 0)
	// Output: kid-1 ES256 sig true
}
