package dpop

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// Prover makes DPoP proofs with one key: the client side, for Go
// programs that call DPoP APIs, for tests and for the load benchmark. It
// is safe for concurrent use.
type Prover struct {
	signer jose.Signer
	alg    string
	thumb  string
	now    func() time.Time
}

// NewProver returns a prover signing with key (any crypto.Signer: the
// private key never leaves it) under alg, one of SupportedAlgorithms, on
// clock now (nil: time.Now).
func NewProver(key crypto.Signer, alg string, now func() time.Time) (*Prover, error) {
	if supported[alg] == nil {
		return nil, fmt.Errorf("dpop: proof algorithm %q is not supported", alg)
	}
	pub := jose.JSONWebKey{Key: key.Public()}
	if !supported[alg](pub.Key) {
		return nil, fmt.Errorf("dpop: a %s key cannot sign %s proofs", keyType(pub.Key), alg)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(ProofType)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: cryptosigner.Opaque(key)}, opts)
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	thumb, err := Thumbprint(&pub)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Prover{signer: s, alg: alg, thumb: thumb, now: now}, nil
}

// Thumbprint returns the key's RFC 7638 thumbprint: the jkt the server
// binds tokens to, and the dpop_jkt of an authorization request.
func (p *Prover) Thumbprint() string { return p.thumb }

// ProofOptions are the optional claims of a proof.
type ProofOptions struct {
	// AccessToken, at a resource: the proof carries its hash (ath).
	AccessToken string
	// Nonce is the server's last DPoP-Nonce, if it asked for one.
	Nonce string
}

// Proof returns a proof for a request with method to uri (its query and
// fragment are left out of htu), with a random jti and the current time.
func (p *Prover) Proof(method, uri string, o ProofOptions) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("dpop: the request URI: %w", err)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	var jti [16]byte
	rand.Read(jti[:])
	c := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
		"htm": method,
		"htu": u.String(),
		"iat": p.now().Unix(),
	}
	if o.AccessToken != "" {
		c["ath"] = AccessTokenHash(o.AccessToken)
	}
	if o.Nonce != "" {
		c["nonce"] = o.Nonce
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	sig, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop: signing the proof: %w", err)
	}
	return sig.CompactSerialize()
}
