package requestobject

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
)

// FuzzVerify: whatever the request parameter holds, Verify answers
// ErrInvalid or parameters, never panics, and accepts nothing the
// client's key did not sign.
func FuzzVerify(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	set, err := privatekeyjwt.ParseKeySet(jwks, nil)
	if err != nil {
		f.Fatal(err)
	}
	v, err := New(Options{Issuer: issuer, Replay: &memReplay{seen: map[string]bool{}}, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJiYW5rIn0.", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
		"eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJiYW5rIiwiYXVkIjpbMSx7fV0sImV4cCI6IjEifQ.AAAA"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Verify(context.Background(), raw, Client{ID: "bank", Keys: set})
		if err == nil {
			t.Fatalf("an object nobody signed was accepted: %q -> %v", raw, p)
		}
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v does not wrap ErrInvalid", err)
		}
	})
}
