package dpop

import (
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/internal/jwsverify"
)

// headerCache remembers, for the exact protected header segment
// (base64url, canonical) of a proof that passed every check of the full
// path, go-jose's parse and its signature verification included, the
// header's alg, public key and thumbprint. A client's proofs all carry
// the same header (typ, alg, jwk), so the next proof with these very
// bytes needs neither the header's JSON nor go-jose's parse of it and of
// the key: its claims are checked as on the full path and its signature
// is verified with the remembered key, over the same signing input go-jose
// uses (jwsverify.Verify). Headers with crit (which can change the signing
// input) are never remembered. Bounded like keyCache: when full, an
// arbitrary entry makes room.
type headerCache = jwsverify.Cache[*knownHeader]

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

func newHeaderCache() *headerCache {
	return jwsverify.NewCache[*knownHeader](keyCacheEntries, headerCacheMax)
}

// verifyKnown verifies proof, whose header segment is the
// remembered h: the claims as on the full path, then the signature. ok
// is false when the proof's claims or signature segments are not
// canonical base64url: the full path decides then.
func (v *Verifier) verifyKnown(proof string, h *knownHeader, req Request) (p *Proof, ok bool, err error) {
	input, payload, sig, ok := jwsverify.Split(proof)
	if !ok {
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
	if err := jwsverify.Verify(h.alg, h.key.Key, []byte(input), sig); err != nil {
		return nil, true, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	p.Thumbprint, p.Key = h.thumbprint, h.key
	return p, true, nil
}
