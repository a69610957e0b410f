package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/key"
)

// Sentinel errors.
var (
	// ErrUnsupportedKey: the key type is not one Signet signs with.
	ErrUnsupportedKey = errors.New("jwk: unsupported key type")
	// ErrAlgorithmMismatch: the key does not fit the algorithm.
	ErrAlgorithmMismatch = errors.New("jwk: key does not fit algorithm")
	// ErrNoKey: the input holds no key Signet can read.
	ErrNoKey = errors.New("jwk: no key found")
)

// Generate creates a private key for alg. rsaBits applies to RS* and PS*.
func Generate(alg key.Algorithm, rsaBits int) (crypto.Signer, error) {
	switch alg.Family() {
	case key.FamilyRSA, key.FamilyRSAPSS:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case key.FamilyEC:
		return ecdsa.GenerateKey(alg.Curve(), rand.Reader)
	case key.FamilyEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("jwk: generate: %w %q", key.ErrUnknownAlgorithm, alg)
}

// CheckAlgorithm reports whether pub fits alg: RSA (at least 2048 bits) for
// RS*/PS*, the algorithm's curve for ES*, Ed25519 for EdDSA.
func CheckAlgorithm(alg key.Algorithm, pub crypto.PublicKey) error {
	switch alg.Family() {
	case key.FamilyRSA, key.FamilyRSAPSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: %s needs an RSA key, the key is %s", ErrAlgorithmMismatch, alg, describe(pub))
		}
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: %s key is %d bits; at least 2048 are required", ErrAlgorithmMismatch, alg, k.N.BitLen())
		}
		return nil
	case key.FamilyEC:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != alg.Curve() {
			return fmt.Errorf("%w: %s needs an ECDSA %s key, the key is %s", ErrAlgorithmMismatch, alg, alg.Curve().Params().Name, describe(pub))
		}
		return nil
	case key.FamilyEdDSA:
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return fmt.Errorf("%w: EdDSA needs an Ed25519 key, the key is %s", ErrAlgorithmMismatch, describe(pub))
		}
		return nil
	}
	return fmt.Errorf("jwk: %w %q", key.ErrUnknownAlgorithm, alg)
}

func describe(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// MarshalPrivate returns the PKCS#8 DER encoding of a private key.
func MarshalPrivate(s crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(s)
	if err != nil {
		return nil, fmt.Errorf("jwk: marshal private key: %w", err)
	}
	return der, nil
}

// UnmarshalPrivate parses a PKCS#8 DER private key.
func UnmarshalPrivate(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("jwk: parse PKCS#8 private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
	}
	return s, nil
}

// SelfSigned returns a DER self-signed certificate for the key, valid from
// notBefore to notAfter, with the kid as subject common name.
func SelfSigned(s crypto.Signer, kid string, notBefore, notAfter time.Time) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("jwk: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "signet signing key " + kid},
		NotBefore:             notBefore.Add(-5 * time.Minute),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		return nil, fmt.Errorf("jwk: self-signed certificate: %w", err)
	}
	return der, nil
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url-encoded: the kid of a static key with none configured.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	jk := jose.JSONWebKey{Key: pub}
	tp, err := jk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwk: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// Public returns the public JWK of a key: kty, use=sig, kid, alg, the
// public parameters and, with certificates, x5c, x5t and x5t#S256. pub must
// be a public key; a private key is refused.
func Public(kid string, alg key.Algorithm, pub crypto.PublicKey, certs []*x509.Certificate) (jose.JSONWebKey, error) {
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return jose.JSONWebKey{}, fmt.Errorf("%w: %T is not a public key", ErrUnsupportedKey, pub)
	}
	jk := jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	if len(certs) > 0 {
		jk.Certificates = certs
		s1 := sha1.Sum(certs[0].Raw)
		s256 := sha256.Sum256(certs[0].Raw)
		jk.CertificateThumbprintSHA1 = s1[:]
		jk.CertificateThumbprintSHA256 = s256[:]
	}
	return jk, nil
}

// EncodeSet returns the JSON of a JWK set {"keys":[...]}.
func EncodeSet(keys []jose.JSONWebKey) ([]byte, error) {
	if keys == nil {
		keys = []jose.JSONWebKey{}
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("jwk: encode set: %w", err)
	}
	return b, nil
}

// ParsePrivateKey reads an operator-supplied private key: PEM (PKCS#1 "RSA
// PRIVATE KEY", PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY"), optionally
// with "CERTIFICATE" blocks whose first certificate must match the key, or
// a private JWK as JSON.
func ParsePrivateKey(data []byte) (crypto.Signer, []*x509.Certificate, error) {
	if isJSON(data) {
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(data); err != nil {
			return nil, nil, fmt.Errorf("jwk: parse JWK: %w", err)
		}
		if jk.IsPublic() {
			return nil, nil, fmt.Errorf("%w: the JWK holds a public key; a signing credential needs the private key", ErrNoKey)
		}
		s, ok := jk.Key.(crypto.Signer)
		if !ok {
			return nil, nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, jk.Key)
		}
		return s, jk.Certificates, checkCert(s.Public(), jk.Certificates)
	}
	var signer crypto.Signer
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY":
			// OpenSSL's traditional encryption keeps the block type and
			// marks it with a "Proc-Type: 4,ENCRYPTED" header.
			if strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, nil, errors.New("jwk: encrypted PEM private keys are not supported; decrypt it (openssl pkcs8 -topk8 -nocrypt -in key.pem -out plain.pem) and protect the file with permissions")
			}
			if signer != nil {
				return nil, nil, errors.New("jwk: the PEM holds more than one private key; give one key per file")
			}
			s, err := parsePrivateBlock(b)
			if err != nil {
				return nil, nil, err
			}
			signer = s
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("jwk: parse certificate: %w", err)
			}
			certs = append(certs, c)
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, errors.New("jwk: encrypted PEM private keys are not supported; decrypt it (openssl pkcs8 -in key.pem -out plain.pem) and protect the file with permissions")
		}
	}
	if signer == nil {
		return nil, nil, fmt.Errorf("%w: expected a PEM private key (RSA PRIVATE KEY, PRIVATE KEY or EC PRIVATE KEY) or a private JWK", ErrNoKey)
	}
	return signer, certs, checkCert(signer.Public(), certs)
}

func parsePrivateBlock(b *pem.Block) (crypto.Signer, error) {
	var k any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("jwk: parse %s: %w", b.Type, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
	}
	switch s.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return s, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
}

// ParsePublicKey reads a key for validation only: anything ParsePrivateKey
// reads (its public half is used), a PEM "PUBLIC KEY" or "RSA PUBLIC KEY",
// a PEM certificate, or a public JWK.
func ParsePublicKey(data []byte) (crypto.PublicKey, []*x509.Certificate, error) {
	if isJSON(data) {
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(data); err != nil {
			return nil, nil, fmt.Errorf("jwk: parse JWK: %w", err)
		}
		pub := jk.Public()
		if !pub.Valid() {
			return nil, nil, fmt.Errorf("%w: the JWK is not a usable key", ErrNoKey)
		}
		return pub.Key, jk.Certificates, checkCert(pub.Key, jk.Certificates)
	}
	if s, certs, err := ParsePrivateKey(data); err == nil {
		return s.Public(), certs, nil
	} else if !errors.Is(err, ErrNoKey) {
		return nil, nil, err
	}
	var pub crypto.PublicKey
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("jwk: parse PUBLIC KEY: %w", err)
			}
			pub = k
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("jwk: parse RSA PUBLIC KEY: %w", err)
			}
			pub = k
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("jwk: parse certificate: %w", err)
			}
			certs = append(certs, c)
		}
	}
	if pub == nil && len(certs) > 0 {
		pub = certs[0].PublicKey
	}
	if pub == nil {
		return nil, nil, fmt.Errorf("%w: expected a PEM key or certificate, or a JWK", ErrNoKey)
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
	return pub, certs, checkCert(pub, certs)
}

type equaler interface{ Equal(crypto.PublicKey) bool }

func checkCert(pub crypto.PublicKey, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return nil
	}
	if e, ok := pub.(equaler); !ok || !e.Equal(certs[0].PublicKey) {
		return errors.New("jwk: the first certificate does not match the key; put the key's own certificate first")
	}
	return nil
}

func isJSON(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}
