package privatekeyjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/key"
)

const (
	testIssuer   = "https://login.example.com"
	testTokenURL = "https://login.example.com/connect/token"
	testClient   = "billing"
)

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testKey returns a new private key for alg (RSA keys are shared: slow to make).
func testKey(t testing.TB, alg key.Algorithm) crypto.Signer {
	t.Helper()
	switch alg.Family() {
	case key.FamilyRSA, key.FamilyRSAPSS:
		rsaOnce.Do(func() {
			var err error
			if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		})
		return rsaKey
	case key.FamilyEC:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	case key.FamilyEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	t.Fatalf("no test key for %s", alg)
	return nil
}

// publicJWKS returns the JWK Set JSON of the public halves, with kids and algs.
func publicJWKS(t testing.TB, keys map[string]crypto.Signer, algs map[string]key.Algorithm) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: string(algs[kid]), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// claims is a valid assertion's claims at t0.
func validClaims() map[string]any {
	return map[string]any{
		"iss": testClient,
		"sub": testClient,
		"aud": testIssuer,
		"exp": t0.Add(time.Minute).Unix(),
		"iat": t0.Unix(),
		"jti": "jti-1",
	}
}

// sign signs claims with k as alg, with kid in the header unless "".
func sign(t testing.TB, k crypto.Signer, alg key.Algorithm, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: k, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func newTestVerifier(t testing.TB, replay Replay) *Verifier {
	t.Helper()
	if replay == nil {
		replay = NewMemoryReplay(1000, func() time.Time { return t0 })
	}
	v, err := New(Options{Issuer: testIssuer, Audiences: []string{testTokenURL}, Replay: replay, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
