package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-id/signet/key"
)

// Token types with pre-encoded headers.
const (
	TypeAccessToken = "at+jwt" // RFC 9068
	TypeJWT         = "JWT"    // ID tokens
)

// ErrKeyMismatch: the signer's public key does not fit the algorithm.
var ErrKeyMismatch = errors.New("jws: signer does not fit the algorithm")

var b64 = base64.RawURLEncoding

// Key signs compact JWS. It is immutable and safe for concurrent use.
type Key struct {
	kid    string
	alg    key.Algorithm
	signer crypto.Signer
	opts   crypto.SignerOpts
	size   int // ECDSA: byte length of r and of s

	atHeader  string // base64url header for TypeAccessToken
	jwtHeader string // base64url header for TypeJWT
}

// NewKey returns a Key that signs with signer under kid and alg. It checks
// that the signer's public key fits alg (RSA for RS*/PS*, the algorithm's
// curve for ES*, Ed25519 for EdDSA).
func NewKey(kid string, alg key.Algorithm, signer crypto.Signer) (*Key, error) {
	if kid == "" {
		return nil, errors.New("jws: kid is empty")
	}
	k := &Key{kid: kid, alg: alg, signer: signer}
	pub := signer.Public()
	switch alg.Family() {
	case key.FamilyRSA:
		if _, ok := pub.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("%w: %s needs an RSA key, got %T", ErrKeyMismatch, alg, pub)
		}
		k.opts = alg.Hash()
	case key.FamilyRSAPSS:
		if _, ok := pub.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("%w: %s needs an RSA key, got %T", ErrKeyMismatch, alg, pub)
		}
		k.opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: alg.Hash()}
	case key.FamilyEC:
		ek, ok := pub.(*ecdsa.PublicKey)
		if !ok || ek.Curve != alg.Curve() {
			return nil, fmt.Errorf("%w: %s needs an ECDSA %s key, got %T", ErrKeyMismatch, alg, alg.Curve().Params().Name, pub)
		}
		k.opts = alg.Hash()
		k.size = (ek.Curve.Params().BitSize + 7) / 8
	case key.FamilyEdDSA:
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return nil, fmt.Errorf("%w: EdDSA needs an Ed25519 key, got %T", ErrKeyMismatch, pub)
		}
		k.opts = crypto.Hash(0)
	default:
		return nil, fmt.Errorf("jws: %w %q", key.ErrUnknownAlgorithm, alg)
	}
	k.atHeader = encodeHeader(alg, kid, TypeAccessToken)
	k.jwtHeader = encodeHeader(alg, kid, TypeJWT)
	return k, nil
}

func encodeHeader(alg key.Algorithm, kid, typ string) string {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ,omitempty"`
	}{string(alg), kid, typ}) // cannot fail: three strings
	return b64.EncodeToString(h)
}

// KID returns the key id.
func (k *Key) KID() string { return k.kid }

// Algorithm returns the signing algorithm.
func (k *Key) Algorithm() key.Algorithm { return k.alg }

// Signer returns the underlying signer.
func (k *Key) Signer() crypto.Signer { return k.signer }

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.signer.Public() }

// Sign returns the compact serialization of payload signed with a
// protected header {alg, kid, typ}. typ may be empty.
func (k *Key) Sign(typ string, payload []byte) (string, error) {
	buf, err := k.AppendSign(make([]byte, 0, k.SignedLen(typ, len(payload))), typ, payload)
	if err != nil {
		return "", err
	}
	return string(buf), nil
}

// SignedLen returns the length of the compact serialization of a payload
// of n bytes signed with typ: what [Key.AppendSign] appends.
func (k *Key) SignedLen(typ string, n int) int {
	return len(k.header(typ)) + 1 + b64.EncodedLen(n) + 1 + b64.EncodedLen(k.maxSignatureLen())
}

// AppendSign appends the compact serialization of payload signed with a
// protected header {alg, kid, typ} to dst and returns the extended
// slice, like [Key.Sign]. When dst has room for [Key.SignedLen] more
// bytes it allocates nothing itself (the signer may).
func (k *Key) AppendSign(dst []byte, typ string, payload []byte) ([]byte, error) {
	header := k.header(typ)
	sigLen := b64.EncodedLen(k.maxSignatureLen())
	dst = slices.Grow(dst, len(header)+1+b64.EncodedLen(len(payload))+1+sigLen)
	start := len(dst)
	dst = append(dst, header...)
	dst = append(dst, '.')
	dst = b64.AppendEncode(dst, payload)
	// The room reserved for '.' and the encoded signature (at least 87
	// bytes) holds the digest meanwhile: signers do not keep it.
	sig, err := k.signRaw(dst[start:], dst[len(dst):cap(dst)])
	if err != nil {
		return dst[:start], err
	}
	dst = append(dst, '.')
	if k.alg.Family() == key.FamilyEC {
		var raw [2 * 66]byte // R||S of P-521 at most
		rs, err := appendRaw(raw[:0], sig, k.size)
		if err != nil {
			return dst[:start], err
		}
		return b64.AppendEncode(dst, rs), nil
	}
	return b64.AppendEncode(dst, sig), nil
}

// header returns the encoded protected header for typ.
func (k *Key) header(typ string) string {
	switch typ {
	case TypeAccessToken:
		return k.atHeader
	case TypeJWT:
		return k.jwtHeader
	}
	return encodeHeader(k.alg, k.kid, typ)
}

func (k *Key) maxSignatureLen() int {
	switch k.alg.Family() {
	case key.FamilyRSA, key.FamilyRSAPSS:
		return k.signer.Public().(*rsa.PublicKey).Size()
	case key.FamilyEC:
		return 2 * k.size
	default:
		return ed25519.SignatureSize
	}
}

// signRaw signs the JWS signing input and returns the signer's signature
// (ASN.1 for ECDSA). scratch, at least 64 bytes that do not overlap
// input, holds the digest.
func (k *Key) signRaw(input, scratch []byte) ([]byte, error) {
	msg := input
	if k.alg != key.EdDSA {
		switch k.alg.Hash() {
		case crypto.SHA256:
			d := sha256.Sum256(input)
			msg = append(scratch[:0], d[:]...)
		case crypto.SHA384:
			d := sha512.Sum384(input)
			msg = append(scratch[:0], d[:]...)
		default:
			d := sha512.Sum512(input)
			msg = append(scratch[:0], d[:]...)
		}
	}
	sig, err := k.signer.Sign(rand.Reader, msg, k.opts)
	if err != nil {
		return nil, fmt.Errorf("jws: sign with %s key %s: %w", k.alg, k.kid, err)
	}
	return sig, nil
}

// asn1ToRaw converts an ASN.1 ECDSA signature to JWS's fixed-width R||S.
func asn1ToRaw(der []byte, size int) ([]byte, error) {
	return appendRaw(make([]byte, 0, 2*size), der, size)
}

// appendRaw appends the fixed-width R||S form of an ASN.1 ECDSA
// signature to dst.
func appendRaw(dst, der []byte, size int) ([]byte, error) {
	var r, s cryptobyte.String
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) || !seq.Empty() {
		return nil, errors.New("jws: malformed ECDSA signature from signer")
	}
	n := len(dst)
	dst = slices.Grow(dst, 2*size)[:n+2*size]
	out := dst[n:]
	clear(out)
	if err := putInt(out[:size], r); err != nil {
		return nil, err
	}
	if err := putInt(out[size:], s); err != nil {
		return nil, err
	}
	return dst, nil
}

func putInt(dst []byte, v []byte) error {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) {
		return errors.New("jws: ECDSA signature integer too large for curve")
	}
	copy(dst[len(dst)-len(v):], v)
	return nil
}
