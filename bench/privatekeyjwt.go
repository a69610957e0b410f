package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/key"
)

// benchKeyedClient is the client of the private_key_jwt mode: the same
// scopes as benchClient, authenticated by an ES256 client assertion.
const benchKeyedClient = "bench-pkj"

// benchIssuer is the issuer of the benchmark configuration, the aud of
// its client assertions.
const benchIssuer = "http://127.0.0.1"

// maxAssertionPool bounds the assertions made for one phase (about 700
// bytes each).
const maxAssertionPool = 400_000

// newAssertionKey returns the keyed client's key and its public JWK.
func newAssertionKey() (*ecdsa.PrivateKey, string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: k.Public(), KeyID: "bench-1", Algorithm: "ES256", Use: "sig"})
	return k, string(b), err
}

// assertionRequests returns n client_credentials requests whose scope
// selects alg, each authenticated by its own client assertion (a jti is
// single use), signed before the phase so the load generator only sends.
func (s *signetServer) assertionRequests(alg key.Algorithm, n int) (request, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: s.assertionKey, KeyID: "bench-1"}}, nil)
	if err != nil {
		return request{}, err
	}
	now := time.Now()
	out := request{pool: &requestPool{}}
	for i := range n {
		a, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: benchKeyedClient, Subject: benchKeyedClient, Audience: jwt.Audience{benchIssuer},
			Expiry: jwt.NewNumericDate(now.Add(4 * time.Minute)), ID: fmt.Sprint("b", i, "-", now.UnixNano())}).Serialize()
		if err != nil {
			return request{}, err
		}
		body := "grant_type=client_credentials&scope=" + scopeOf(alg) +
			"&client_assertion_type=" + url.QueryEscape("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") + "&client_assertion=" + a
		r := newRequest("POST", s.tokenPath, []string{"Content-Type: application/x-www-form-urlencoded"}, body, 200)
		if i == 0 {
			out.raw, out.wantStatus = r.raw, r.wantStatus
		}
		out.pool.raw = append(out.pool.raw, r.raw)
	}
	return out, nil
}

// modeResult is a client authentication mode measured beside the secret
// mode (client_secret_basic with a sha256: secret) in the same run.
type modeResult struct {
	Mode   string       `json:"mode"`
	Alg    string       `json:"alg"` // of the tokens
	Tokens *phaseResult `json:"tokens"`
	// SecretPerSecond is the secret mode's rate for the same tokens;
	// ExtraUs is 1/tokens - 1/secret: the extra time per token of the
	// server's core, which is the extra cost when the core is saturated
	// in both windows (server_cpu near 1).
	SecretPerSecond float64 `json:"secret_per_second"`
	ExtraUs         float64 `json:"extra_us"`
	// CPUPerTokenUs and SecretCPUPerTokenUs are the server's CPU time per
	// token (server_cpu / rate) of this mode and of the secret mode, and
	// ExtraCPUUs their difference: the extra cost even when the server
	// waits (for a disk flush, say) rather than computes.
	CPUPerTokenUs       float64 `json:"cpu_per_token_us"`
	SecretCPUPerTokenUs float64 `json:"secret_cpu_per_token_us"`
	ExtraCPUUs          float64 `json:"extra_cpu_us"`
	// ES256VerifyUs is one ES256 verification on the server's core,
	// measured in the same run (bench raw-verify, half before and half
	// after the modes' windows); VerifyCPUShare is the share of its
	// window it ran.
	ES256VerifyUs  float64 `json:"es256_verify_us"`
	VerifyCPUShare float64 `json:"verify_cpu_share"`
	// FloorUs is the HTTP floor per request; AllowanceUs is the target's
	// extra cost: one ES256 verification plus 20 % of the floor.
	// ExtraVsAllowance is ExtraUs / AllowanceUs (the target: <= 1).
	FloorUs          float64 `json:"floor_us"`
	AllowanceUs      float64 `json:"allowance_us"`
	ExtraVsAllowance float64 `json:"extra_vs_allowance"`
	Assertions       int     `json:"assertions"` // client assertions or DPoP proofs signed for the phase
}
