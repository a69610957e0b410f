package privatekeyjwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
)

// A client signs an assertion with its private key; the server verifies
// it with the client's public JWK Set.
func Example() {
	// The client's key pair; the public half goes in clients[].jwks.
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: "billing-2026", Algorithm: "ES256", Use: "sig"}}})

	// Client side: what goes in client_assertion.
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: "billing-2026"}}, (&jose.SignerOptions{}).WithType("JWT"))
	now := time.Now()
	assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer:   "billing",
		Subject:  "billing",
		Audience: jwt.Audience{"https://login.example.com"},
		Expiry:   jwt.NewNumericDate(now.Add(time.Minute)),
		IssuedAt: jwt.NewNumericDate(now),
		ID:       rand.Text(),
	}).Serialize()

	// Server side.
	keys, err := privatekeyjwt.ParseKeySet(jwks, nil)
	if err != nil {
		panic(err)
	}
	v, _ := privatekeyjwt.New(privatekeyjwt.Options{
		Issuer:    "https://login.example.com",
		Audiences: []string{"https://login.example.com/connect/token"},
		Replay:    privatekeyjwt.NewMemoryReplay(10000, nil),
	})
	a, err := v.Parse(assertion)
	if err != nil {
		panic(err)
	}
	claims, err := v.Verify(context.Background(), a, privatekeyjwt.Client{ID: a.ClientID(), Keys: keys})
	fmt.Println(claims.ClientID, claims.KeyID, claims.Algorithm, err)
	_, err = v.Verify(context.Background(), a, privatekeyjwt.Client{ID: a.ClientID(), Keys: keys})
	fmt.Println(err != nil)
	// Output:
	// billing billing-2026 ES256 <nil>
	// true
}
