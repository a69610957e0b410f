package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The helpers here build proofs by hand with the standard library, not
// with go-jose or the Prover, so the verifier is checked against an
// independent encoder and can be fed headers no library would write.

var b64 = base64.RawURLEncoding

// t0 is the fake clock's time.
var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// testKey is a signing key with its public JWK members.
type testKey struct {
	alg    string
	signer crypto.Signer
	jwk    map[string]any
}

var (
	keysOnce sync.Once
	keys     map[string]testKey
)

// testKeys returns one key per algorithm (made once: RSA is slow).
func testKeys(t testing.TB) map[string]testKey {
	t.Helper()
	keysOnce.Do(func() {
		ec := mustEC(elliptic.P256())
		ec384 := mustEC(elliptic.P384())
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		keys = map[string]testKey{
			"ES256": {"ES256", ec, ecJWK(&ec.PublicKey, "P-256", 32)},
			"ES384": {"ES384", ec384, ecJWK(&ec384.PublicKey, "P-384", 48)},
			"RS256": {"RS256", rk, rsaJWK(&rk.PublicKey)},
			"PS256": {"PS256", rk, rsaJWK(&rk.PublicKey)},
			"EdDSA": {"EdDSA", ed, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(ed.Public().(ed25519.PublicKey))}},
		}
	})
	return keys
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func ecJWK(p *ecdsa.PublicKey, crv string, size int) map[string]any {
	e, err := p.ECDH()
	if err != nil {
		panic(err)
	}
	raw := e.Bytes() // 0x04 || X || Y
	return map[string]any{"kty": "EC", "crv": crv, "x": b64.EncodeToString(raw[1 : 1+size]), "y": b64.EncodeToString(raw[1+size:])}
}

func rsaJWK(p *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "n": b64.EncodeToString(p.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(p.E)).Bytes())}
}

// header returns the usual protected header for k.
func (k testKey) header() map[string]any {
	return map[string]any{"typ": "dpop+jwt", "alg": k.alg, "jwk": copyMap(k.jwk)}
}

// claims returns valid claims for POST https://server.example.com/token at t0.
func baseClaims() map[string]any {
	return map[string]any{"jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": "https://server.example.com/token", "iat": t0.Unix()}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sign makes a compact JWS of hdr and claims signed by k with alg (the
// alg of hdr need not be k's: that is what some tests are about).
func (k testKey) sign(hdr, claims map[string]any) string {
	return k.signRaw(mustJSON(hdr), mustJSON(claims))
}

func (k testKey) signRaw(hdr, payload []byte) string {
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(payload)
	return input + "." + b64.EncodeToString(k.sigOver(input))
}

func (k testKey) sigOver(input string) []byte {
	h := sha256.Sum256([]byte(input))
	switch s := k.signer.(type) {
	case *ecdsa.PrivateKey:
		digest, size := h[:], 32
		if k.alg == "ES384" {
			h384 := sha512.Sum384([]byte(input))
			digest, size = h384[:], 48
		}
		r, ss, err := ecdsa.Sign(rand.Reader, s, digest)
		if err != nil {
			panic(err)
		}
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		ss.FillBytes(out[size:])
		return out
	case *rsa.PrivateKey:
		var sig []byte
		var err error
		if k.alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, s, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, s, crypto.SHA256, h[:])
		}
		if err != nil {
			panic(err)
		}
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(s, []byte(input))
	}
	panic("unknown key")
}

// newVerifier returns a verifier on the fake clock.
func newVerifier(t testing.TB, c Config) *Verifier {
	t.Helper()
	if c.Now == nil {
		c.Now = fixedClock(t0)
	}
	v, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var tokenReq = Request{Method: "POST", URI: "https://server.example.com/token"}

type joseKey = jose.JSONWebKey

func ellipticP256() elliptic.Curve { return elliptic.P256() }
