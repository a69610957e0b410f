package jwk_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/testkeys"
	"github.com/signet-id/signet/key"
)

// Test keys are generated once per test binary and shared: RSA generation
// dominates the run time otherwise.
var (
	rsa2048   = testkeys.RSA2048
	rsa2048b  = testkeys.Once(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	rsa1024   = testkeys.Once(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 1024) })
	p256      = testkeys.P256
	p256b     = testkeys.Once(func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	p384      = testkeys.P384
	p521      = testkeys.P521
	ed        = testkeys.Ed25519
	edb       = testkeys.Once(func() (ed25519.PrivateKey, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err })
	x25519Key = testkeys.X25519
)

// signerFor returns the shared private key that fits alg.
func signerFor(alg key.Algorithm) crypto.Signer { return testkeys.For(alg) }

// distinctKeys is one of each kind of key Signet signs with.
func distinctKeys() map[string]crypto.Signer {
	return map[string]crypto.Signer{
		"RSA":     rsa2048(),
		"P-256":   p256(),
		"P-384":   p384(),
		"P-521":   p521(),
		"Ed25519": ed(),
	}
}

var (
	certNotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	certNotAfter  = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

// makeCert builds a self-signed certificate for s with crypto/x509 directly,
// so parser tests do not depend on jwk.SelfSigned.
func makeCert(t testing.TB, s crypto.Signer, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    certNotBefore,
		NotAfter:     certNotAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8PEM(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

func pkixPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PUBLIC KEY", der)
}

func sec1PEM(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("EC PRIVATE KEY", der)
}

func certPEM(c *x509.Certificate) []byte { return pemOf("CERTIFICATE", c.Raw) }

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type equaler interface{ Equal(crypto.PublicKey) bool }

func sameKey(a, b crypto.PublicKey) bool {
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// isPrivate reports whether k is private key material of any kind.
func isPrivate(k any) bool {
	switch k.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, *ecdh.PrivateKey, []byte:
		return true
	}
	return false
}

var errSignerBroken = errors.New("test: signer broken")

// brokenSigner has a real public key but cannot sign.
type brokenSigner struct{ pub crypto.PublicKey }

func (b brokenSigner) Public() crypto.PublicKey { return b.pub }
func (brokenSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errSignerBroken
}
