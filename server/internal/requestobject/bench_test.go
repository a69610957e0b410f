package requestobject

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
)

// noReplay accepts every jti: the benchmark measures the checks, not a
// store.
type noReplay struct{}

func (noReplay) UseOnce(context.Context, string, time.Time) error { return nil }

// BenchmarkVerify: one ES256 request object verified (parse, one
// signature, the claims), beside BenchmarkES256Verify, the bare
// signature check, in the same run.
func BenchmarkVerify(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	set, _ := privatekeyjwt.ParseKeySet(jwks, nil)
	v, _ := New(Options{Issuer: issuer, Replay: noReplay{}, Now: func() time.Time { return now }})
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: "k1"}}, nil)
	claims, _ := json.Marshal(map[string]any{"iss": "bank", "aud": issuer, "exp": now.Add(time.Minute).Unix(), "jti": strconv.Itoa(1),
		"response_type": "code", "client_id": "bank", "redirect_uri": "https://bank.example/cb", "scope": "openid", "state": "s", "nonce": "n",
		"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"})
	obj, _ := s.Sign(claims)
	raw, _ := obj.CompactSerialize()
	c := Client{ID: "bank", Keys: set}
	b.Run("request object", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Verify(context.Background(), raw, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare ES256 verification", func(b *testing.B) {
		for b.Loop() {
			o, _ := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
			if _, err := o.Verify(k.Public()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
