package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
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

// es256VerifyUs measures one ES256 verification on this process's CPU,
// in µs: what a client assertion must cost at least.
func es256VerifyUs(window time.Duration) (float64, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	h := sha256.Sum256([]byte("bench"))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		return 0, err
	}
	start, n := time.Now(), 0
	for time.Since(start) < window {
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			return 0, fmt.Errorf("ES256 verification failed")
		}
		n++
	}
	return float64(time.Since(start).Microseconds()) / float64(n), nil
}

// measurePrivateKeyJWT runs the private_key_jwt mode: the secret mode's
// request of alg (measured just before, secretRate tokens/s), now with a
// fresh client assertion per request.
func (r *runner) measurePrivateKeyJWT(srv *signetServer, alg key.Algorithm, secret *phaseResult) error {
	o := r.o
	// Enough for the window measured as often as a disturbed one may be.
	n := int(secret.PerSecond*(o.warmup+o.duration).Seconds()*1.5)*(o.retries+1) + 10*o.connections
	if n > maxAssertionPool {
		n = maxAssertionPool
	}
	r.progress("private_key_jwt: signing %s client assertions", num(float64(n)))
	req, err := srv.assertionRequests(alg, n)
	if err != nil {
		return err
	}
	last := len(req.pool.raw) - 1
	status, _, body, err := fetch(srv.addr, request{raw: req.pool.raw[last]})
	if err != nil || status != 200 {
		return fmt.Errorf("private_key_jwt token: status %d, %v: %s", status, err, body)
	}
	req.pool.raw = req.pool.raw[:last] // used by the check
	verifyUs, err := es256VerifyUs(time.Second)
	if err != nil {
		return err
	}
	res, err := r.load(srv.addr, srv.pid(), req, o.duration)
	if err != nil {
		return fmt.Errorf("private_key_jwt: %w", err)
	}
	p := newPhaseResult(res)
	m := &modeResult{Mode: "private_key_jwt", Alg: string(alg), Tokens: p, SecretPerSecond: round(secret.PerSecond, 1),
		ExtraUs: round(1e6/p.PerSecond-1e6/secret.PerSecond, 2), ES256VerifyUs: round(verifyUs, 2), Assertions: n}
	r.rep.PrivateKeyJWT = m
	r.progress("private_key_jwt: %s tokens/s (secret: %s), %.1f µs more per token; one ES256 verification: %.1f µs",
		num(p.PerSecond), num(secret.PerSecond), m.ExtraUs, m.ES256VerifyUs)
	return nil
}

// modeResult is a client authentication mode measured beside the secret
// mode (client_secret_basic with a sha256: secret) in the same run.
type modeResult struct {
	Mode   string       `json:"mode"`
	Alg    string       `json:"alg"` // of the tokens
	Tokens *phaseResult `json:"tokens"`
	// SecretPerSecond is the secret mode's rate for the same tokens;
	// ExtraUs is 1/tokens - 1/secret.
	SecretPerSecond float64 `json:"secret_per_second"`
	ExtraUs         float64 `json:"extra_us"`
	// ES256VerifyUs is one ES256 verification on the load generator's CPU.
	ES256VerifyUs float64 `json:"es256_verify_us"`
	Assertions    int     `json:"assertions"` // signed for the phase
}
