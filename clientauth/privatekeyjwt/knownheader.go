package privatekeyjwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/internal/jwsverify"
	"github.com/signet-id/signet/key"
)

// A client signs its assertions with the same protected header (alg,
// kid, typ) every time. Once an assertion's exact header segment was
// parsed by go-jose and its signature verified, the Verifier remembers
// what go-jose made of that header (alg and kid, never a key): the next
// assertion with these very bytes is parsed without go-jose (claims
// decoded as before) and its signature verified with jwsverify over the
// same signing input, against the keys the client has at that moment
// (KeySet.Keys as before, so a key removed from the client's JWKS stops
// verifying at once). Only canonical base64url segments take that path,
// and headers that mention crit never do.

// Bounds of the remembered headers.
const (
	knownHeaderEntries = 512
	knownHeaderMax     = 1 << 10 // bytes of a header segment
)

// knownHeader is what go-jose made of a remembered header segment.
type knownHeader struct {
	alg key.Algorithm
	kid string
}

func newKnownHeaders() *jwsverify.Cache[knownHeader] {
	return jwsverify.NewCache[knownHeader](knownHeaderEntries, knownHeaderMax)
}

// parseKnown parses assertion, whose header segment h is remembered, as
// Parse does. ok is false when assertion is not three canonical base64url
// segments: go-jose's path decides then.
func (v *Verifier) parseKnown(assertion string, h knownHeader) (a *Assertion, ok bool, err error) {
	input, payload, sig, ok := jwsverify.Split(assertion)
	if !ok {
		return nil, false, nil
	}
	a = &Assertion{alg: h.alg, kid: h.kid, input: input, signature: sig}
	if err := json.Unmarshal(payload, &a.claims); err != nil {
		return nil, true, fmt.Errorf("%w: the claims are not a JSON object of the registered types: %v", ErrMalformed, err)
	}
	if a.claims.Issuer == "" {
		return nil, true, fmt.Errorf("%w: iss is missing", ErrIssuer)
	}
	return a, true, nil
}

// headerSegment returns the header segment of a compact JWS.
func headerSegment(assertion string) string {
	if i := strings.IndexByte(assertion, '.'); i >= 0 {
		return assertion[:i]
	}
	return assertion
}

// rememberable reports whether the header segment seg, which go-jose
// parsed, may be remembered: canonical base64url, no crit.
func rememberable(seg string) bool {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	return err == nil && !bytes.Contains(raw, []byte("crit"))
}

// verifySignature verifies a's signature with k, by go-jose for an
// assertion it parsed, by jwsverify for one of a remembered header.
func (a *Assertion) verifySignature(k *jose.JSONWebKey) error {
	if a.sig != nil {
		_, err := a.sig.Verify(k)
		return err
	}
	return jwsverify.Verify(string(a.alg), k.Key, []byte(a.input), a.signature)
}
