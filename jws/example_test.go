package jws_test

import (
	"fmt"
	"strings"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

// Sign a JWT payload in compact serialization.
func ExampleKey_Sign() {
	priv, err := jwk.Generate(key.EdDSA, 0)
	if err != nil {
		panic(err)
	}
	k, err := jws.NewKey("kid-1", key.EdDSA, priv)
	if err != nil {
		panic(err)
	}
	tok, err := k.Sign("JWT", []byte(`{"sub":"alice"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Count(tok, "."))
	// Output: 2
}
