package jwsverify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	signetkey "github.com/signet-id/signet/key"
)

// ErrSignature is Verify's refusal of a signature.
var ErrSignature = errors.New("jwsverify: the signature does not verify")

// Verify verifies a JWS signature of alg over input (the signing input:
// the protected header and payload segments joined by a period) with key,
// as go-jose's verifiers do (asymmetric.go, verifyPayload): ECDSA with R‖S
// of the curve's size on the alg's curve, RSA PKCS #1 v1.5 or PSS (any
// salt length), Ed25519. The hash, curve and family of alg are
// key.Algorithm's.
func Verify(alg string, key any, input, sig []byte) error {
	a := signetkey.Algorithm(alg)
	if !a.Valid() {
		return fmt.Errorf("jwsverify: alg %q has no verifier", alg)
	}
	if a.Family() == signetkey.FamilyEdDSA {
		if k, ok := key.(ed25519.PublicKey); ok && ed25519.Verify(k, input, sig) {
			return nil
		}
		return ErrSignature
	}
	h := a.Hash().New()
	h.Write(input)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		curve := a.Curve()
		if curve == nil || k.Curve != curve {
			return ErrSignature
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return ErrSignature
		}
		if !ecdsa.Verify(k, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])) {
			return ErrSignature
		}
		return nil
	case *rsa.PublicKey:
		var err error
		switch a.Family() {
		case signetkey.FamilyRSA:
			err = rsa.VerifyPKCS1v15(k, a.Hash(), digest, sig)
		case signetkey.FamilyRSAPSS:
			err = rsa.VerifyPSS(k, a.Hash(), digest, sig, nil)
		default:
			return ErrSignature
		}
		if err != nil {
			return ErrSignature
		}
		return nil
	}
	return ErrSignature
}

// Split splits a compact JWS whose header segment the caller knows into
// its signing input (the header and payload segments with their period),
// decoded payload and decoded signature. ok is false unless compact has
// exactly three segments and the payload and signature are canonical
// base64url (RFC 7515's encoding, without padding or stray bits), so that
// the signing input is exactly what go-jose verifies for them.
func Split(compact string) (input string, payload, sig []byte, ok bool) {
	h, rest, ok1 := strings.Cut(compact, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return "", nil, nil, false
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return "", nil, nil, false
	}
	sig, err = base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return "", nil, nil, false
	}
	return compact[:len(h)+1+len(p)], payload, sig, true
}
