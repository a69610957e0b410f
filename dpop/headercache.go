package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// headerCache remembers, for the exact protected header segment
// (base64url, canonical) of a proof that passed every check of the full
// path, go-jose's parse and its signature verification included, the
// header's alg, public key and thumbprint. A client's proofs all carry
// the same header (typ, alg, jwk), so the next proof with these very
// bytes needs neither the header's JSON nor go-jose's parse of it and of
// the key: its claims are checked as on the full path and its signature
// is verified with the remembered key, over the same signing input go-jose
// uses (verifySignature). Headers with crit (which can change the signing
// input) are never remembered. Bounded like keyCache: when full, an
// arbitrary entry makes room.
type headerCache struct {
	mu sync.Mutex // guards m
	m  map[string]*knownHeader
}

// knownHeader is what a remembered header segment stands for.
type knownHeader struct {
	alg        string
	key        jose.JSONWebKey // public, checked for alg
	thumbprint string
}

// headerCacheMax is the longest header segment remembered: the base64url
// of a header whose jwk keyCache would still remember, with room for typ
// and alg.
const headerCacheMax = (keyCacheMaxJWK+256)*4/3 + 4

func newHeaderCache() *headerCache { return &headerCache{m: make(map[string]*knownHeader)} }

func (c *headerCache) get(segment string) *knownHeader {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[segment]
}

func (c *headerCache) put(segment string, h *knownHeader) {
	if len(segment) > headerCacheMax {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[segment]; !ok && len(c.m) >= keyCacheEntries {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[segment] = h
}

// len returns the number of entries (tests).
func (c *headerCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// verifyKnown verifies proof, whose header segment parts[0] is the
// remembered h: the claims as on the full path, then the signature. ok
// is false when the proof's claims or signature segments are not
// canonical base64url: the full path decides then.
func (v *Verifier) verifyKnown(proof string, parts []string, h *knownHeader, req Request) (p *Proof, ok bool, err error) {
	payload, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return nil, false, nil
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return nil, false, nil
	}
	var c claims
	if err := strictJSON(payload, &c); err != nil {
		return nil, true, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	p = &Proof{Algorithm: h.alg}
	if err := v.checkClaims(&c, req, p); err != nil {
		return nil, true, err
	}
	if err := verifySignature(h.alg, h.key.Key, []byte(proof[:len(parts[0])+1+len(parts[1])]), sig); err != nil {
		return nil, true, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	p.Thumbprint, p.Key = h.thumbprint, h.key
	return p, true, nil
}

// errBadSignature is verifySignature's refusal.
var errBadSignature = fmt.Errorf("dpop: the signature does not verify")

// verifySignature verifies a JWS signature of alg over input with key,
// as go-jose's verifiers do (asymmetric.go, verifyPayload): ECDSA with R‖S
// of the curve's size on the alg's curve, RSA PKCS #1 v1.5 or PSS (any
// salt length), Ed25519.
func verifySignature(alg string, key any, input, sig []byte) error {
	var hash crypto.Hash
	switch alg {
	case "ES256", "RS256", "PS256":
		hash = crypto.SHA256
	case "ES384", "RS384", "PS384":
		hash = crypto.SHA384
	case "ES512", "RS512", "PS512":
		hash = crypto.SHA512
	case "EdDSA":
		if k, ok := key.(ed25519.PublicKey); ok && ed25519.Verify(k, input, sig) {
			return nil
		}
		return errBadSignature
	default:
		return fmt.Errorf("dpop: alg %q has no verifier", alg)
	}
	h := hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		size := map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}[alg]
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if size == 0 || k.Curve != curve || len(sig) != 2*size {
			return errBadSignature
		}
		if !ecdsa.Verify(k, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])) {
			return errBadSignature
		}
		return nil
	case *rsa.PublicKey:
		var err error
		switch alg[0] {
		case 'R':
			err = rsa.VerifyPKCS1v15(k, hash, digest, sig)
		case 'P':
			err = rsa.VerifyPSS(k, hash, digest, sig, nil)
		default:
			return errBadSignature
		}
		if err != nil {
			return errBadSignature
		}
		return nil
	}
	return errBadSignature
}
