package jwsverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
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
	var sum [sha512.Size]byte
	digest := digestOf(a.Hash(), input, sum[:0])
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
		// ecdsa.Verify would take R and S as big.Ints and encode them
		// to this same DER with cryptobyte: eight allocations.
		var der [maxDERSignature]byte
		if !ecdsa.VerifyASN1(k, digest, appendDERSignature(der[:0], sig[:size], sig[size:])) {
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

// digestOf returns the hash h of input, appended to buf: SHA-256, -384
// and -512 (every alg's hash) without allocating a hasher.
func digestOf(h crypto.Hash, input, buf []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(input)
		return append(buf, d[:]...)
	case crypto.SHA384:
		d := sha512.Sum384(input)
		return append(buf, d[:]...)
	case crypto.SHA512:
		d := sha512.Sum512(input)
		return append(buf, d[:]...)
	}
	hh := h.New()
	hh.Write(input)
	return hh.Sum(buf)
}

// maxDERSignature is the longest DER ECDSA signature of P-521: a
// SEQUENCE (tag, two length bytes) of two INTEGERs of at most 67 bytes
// (66, and a zero byte before a high bit) with their tag and length.
const maxDERSignature = 3 + 2*(2+67)

// appendDERSignature appends the DER ECDSA-Sig-Value (RFC 3279 section
// 2.2.3: SEQUENCE { r INTEGER, s INTEGER }) of the big-endian unsigned
// r and s to b, as crypto/ecdsa encodes them: minimal INTEGERs (leading
// zero bytes dropped, a zero byte added before a high bit; zero is one
// zero byte).
func appendDERSignature(b, r, s []byte) []byte {
	ri, si := derUnsigned(r), derUnsigned(s)
	n := 2 + len(ri) + pad(ri) + 2 + len(si) + pad(si)
	b = append(b, 0x30) // SEQUENCE
	if n >= 0x80 {
		b = append(b, 0x81)
	}
	b = append(b, byte(n))
	b = appendDERInteger(b, ri)
	return appendDERInteger(b, si)
}

// derUnsigned drops leading zero bytes of v, keeping one for zero.
func derUnsigned(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

// pad is 1 if v's high bit is set: its DER INTEGER needs a zero byte
// first to stay positive.
func pad(v []byte) int {
	if len(v) > 0 && v[0]&0x80 != 0 {
		return 1
	}
	return 0
}

func appendDERInteger(b, v []byte) []byte {
	b = append(b, 0x02, byte(len(v)+pad(v))) // INTEGER; at most 67 bytes
	if pad(v) == 1 {
		b = append(b, 0)
	}
	return append(b, v...)
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
