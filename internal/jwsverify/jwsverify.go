package jwsverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrSignature is Verify's refusal of a signature.
var ErrSignature = errors.New("jwsverify: the signature does not verify")

// Verify verifies a JWS signature of alg over input (the signing input:
// the protected header and payload segments joined by a period) with key,
// as go-jose's verifiers do (asymmetric.go, verifyPayload): ECDSA with R‖S
// of the curve's size on the alg's curve, RSA PKCS #1 v1.5 or PSS (any
// salt length), Ed25519.
func Verify(alg string, key any, input, sig []byte) error {
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
		return ErrSignature
	default:
		return fmt.Errorf("jwsverify: alg %q has no verifier", alg)
	}
	h := hash.New()
	h.Write(input)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		size := map[string]int{"ES256": 32, "ES384": 48, "ES512": 66}[alg]
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		if size == 0 || k.Curve != curve || len(sig) != 2*size {
			return ErrSignature
		}
		if !ecdsa.Verify(k, digest, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])) {
			return ErrSignature
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
