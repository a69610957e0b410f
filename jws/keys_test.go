package jws_test

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-id/signet/internal/testkeys"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

var b64 = base64.RawURLEncoding

// Test keys are generated once per test binary and shared.
var (
	rsaKey  = testkeys.RSA2048
	p256    = testkeys.P256
	p384    = testkeys.P384
	p521    = testkeys.P521
	edKey   = testkeys.Ed25519
	x25519K = testkeys.X25519
)

// signerFor returns the shared private key that fits alg.
func signerFor(alg key.Algorithm) crypto.Signer { return testkeys.For(alg) }

// curveSize is the byte length of r and of s for an ES* algorithm.
func curveSize(alg key.Algorithm) int {
	return (alg.Curve().Params().BitSize + 7) / 8
}

func newKey(t testing.TB, kid string, alg key.Algorithm, s crypto.Signer) *jws.Key {
	t.Helper()
	k, err := jws.NewKey(kid, alg, s)
	if err != nil {
		t.Fatalf("NewKey(%q, %s, %T): %v", kid, alg, s, err)
	}
	return k
}

// verify checks token with go-jose, allowing only alg, and returns the
// payload and the protected header.
func verify(t testing.TB, token string, alg key.Algorithm, pub crypto.PublicKey) ([]byte, jose.Header) {
	t.Helper()
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("go-jose ParseSigned(%s): %v", alg, err)
	}
	payload, err := sig.Verify(pub)
	if err != nil {
		t.Fatalf("go-jose Verify(%s): %v", alg, err)
	}
	return payload, sig.Signatures[0].Protected
}

// splitToken returns the three decoded segments of a compact JWS.
func splitToken(t testing.TB, token string) (header, payload, sig []byte) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments; want 3", len(parts))
	}
	var out [3][]byte
	for i, p := range parts {
		if strings.ContainsAny(p, "=+/") {
			t.Fatalf("segment %d %q is not unpadded base64url", i, p)
		}
		b, err := b64.DecodeString(p)
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		out[i] = b
	}
	return out[0], out[1], out[2]
}

// derSig encodes an ECDSA-Sig-Value with the given INTEGER contents, which
// are written as is (so tests can craft non-minimal or oversize values).
func derSig(r, s []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(r) })
		b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(s) })
	})
	return b.BytesOrPanic()
}

// parseDERSig returns the INTEGER contents of an ECDSA-Sig-Value.
func parseDERSig(der []byte) (r, s []byte, ok bool) {
	in := cryptobyte.String(der)
	var seq, rs, ss cryptobyte.String
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1(&rs, asn1.INTEGER) || !seq.ReadASN1(&ss, asn1.INTEGER) {
		return nil, nil, false
	}
	return rs, ss, true
}

func stripZeros(b []byte) []byte {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

var errHSM = errors.New("test: HSM unavailable")

// errSigner has a real public key; Sign always fails.
type errSigner struct{ pub crypto.PublicKey }

func (e errSigner) Public() crypto.PublicKey { return e.pub }
func (errSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errHSM
}

// derSigner has a real public key and returns a fixed, crafted signature.
type derSigner struct {
	pub crypto.PublicKey
	der []byte
}

func (d derSigner) Public() crypto.PublicKey { return d.pub }
func (d derSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return d.der, nil
}

// recordingSigner signs with a real key and records what it was asked.
type recordingSigner struct {
	crypto.Signer
	digest []byte
	opts   crypto.SignerOpts
}

func (r *recordingSigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.digest = append([]byte(nil), digest...)
	r.opts = opts
	return r.Signer.Sign(rnd, digest, opts)
}

// pickySigner signs with a real ECDSA key, retrying until the signature's
// integers satisfy want, then returns it re-encoded by encode. It makes the
// rare shapes (short r, short s) happen on demand with real signatures.
type pickySigner struct {
	*ecdsa.PrivateKey
	want   func(r, s []byte) bool
	encode func(r, s []byte) []byte
}

func (p pickySigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	for range 5000 {
		der, err := p.PrivateKey.Sign(rnd, digest, opts)
		if err != nil {
			return nil, err
		}
		r, s, ok := parseDERSig(der)
		if !ok {
			return nil, fmt.Errorf("test: unparsable signature from crypto/ecdsa")
		}
		if p.want(r, s) {
			if p.encode != nil {
				return p.encode(r, s), nil
			}
			return der, nil
		}
	}
	return nil, errors.New("test: no signature of the wanted shape in 5000 tries")
}

// verifyRawECDSA checks a JWS R||S signature with crypto/ecdsa directly.
func verifyRawECDSA(pub *ecdsa.PublicKey, alg key.Algorithm, input string, sig []byte) bool {
	n := len(sig) / 2
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[:n]))
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[n:]))
	})
	h := alg.Hash().New()
	h.Write([]byte(input))
	return ecdsa.VerifyASN1(pub, h.Sum(nil), b.BytesOrPanic())
}
