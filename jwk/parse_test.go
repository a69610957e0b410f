package jwk_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
)

func jwkJSON(t testing.TB, k any, certs ...*x509.Certificate) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: "operator-kid", Certificates: certs})
	if err != nil {
		t.Fatalf("marshal JWK: %v", err)
	}
	return b
}

// encryptedPKCS8PEM is an "ENCRYPTED PRIVATE KEY" block as openssl writes
// it; its body is never parsed.
var encryptedPKCS8PEM = pemOf("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef})

// legacyEncryptedPEM is an OpenSSL "traditional" encrypted key: a PKCS#1
// or SEC1 block with Proc-Type and DEK-Info headers.
func legacyEncryptedPEM(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	//lint:ignore SA1019 legacy PEM encryption is what the parser must recognise.
	b, err := x509.EncryptPEMBlock(rand.Reader, typ, der, []byte("passphrase"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(b)
}

type parseCase struct {
	name      string
	data      []byte
	wantPub   crypto.PublicKey // the key (public half) expected on success
	wantCerts int
	wantErr   error  // sentinel expected, if any
	wantMsg   string // substring of the error, if any
}

func privateKeyCases(t *testing.T) []parseCase {
	ecSEC1, err := x509.MarshalECPrivateKey(p256())
	if err != nil {
		t.Fatal(err)
	}
	rsaCert := makeCert(t, rsa2048(), "rsa")
	ecCert := makeCert(t, p384(), "ec")
	otherCert := makeCert(t, p256b(), "other")
	otherRSACert := makeCert(t, rsa2048b(), "other rsa")
	edCert := makeCert(t, ed(), "ed")

	return []parseCase{
		// PEM forms.
		{name: "PKCS#1 RSA", data: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048())), wantPub: rsa2048().Public()},
		{name: "PKCS#8 RSA", data: pkcs8PEM(t, rsa2048()), wantPub: rsa2048().Public()},
		{name: "PKCS#8 P-256", data: pkcs8PEM(t, p256()), wantPub: p256().Public()},
		{name: "PKCS#8 P-384", data: pkcs8PEM(t, p384()), wantPub: p384().Public()},
		{name: "PKCS#8 P-521", data: pkcs8PEM(t, p521()), wantPub: p521().Public()},
		{name: "PKCS#8 Ed25519", data: pkcs8PEM(t, ed()), wantPub: ed().Public()},
		{name: "SEC1 EC", data: pemOf("EC PRIVATE KEY", ecSEC1), wantPub: p256().Public()},
		{name: "SEC1 EC with EC PARAMETERS", data: concat(pemOf("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}), sec1PEM(t, p256())), wantPub: p256().Public()},
		{name: "text around the PEM", data: concat([]byte("Bag Attributes\n  friendlyName: signet\n"), pkcs8PEM(t, p384()), []byte("trailing notes\n")), wantPub: p384().Public()},
		{name: "CRLF line endings", data: []byte(strings.ReplaceAll(string(pkcs8PEM(t, ed())), "\n", "\r\n")), wantPub: ed().Public()},

		// Certificates.
		{name: "RSA key then matching certificate", data: concat(pkcs8PEM(t, rsa2048()), certPEM(rsaCert)), wantPub: rsa2048().Public(), wantCerts: 1},
		{name: "matching certificate then key", data: concat(certPEM(ecCert), sec1PEM(t, p384())), wantPub: p384().Public(), wantCerts: 1},
		{name: "Ed25519 key and certificate", data: concat(pkcs8PEM(t, ed()), certPEM(edCert)), wantPub: ed().Public(), wantCerts: 1},
		{name: "key, leaf and issuer", data: concat(pkcs8PEM(t, p384()), certPEM(ecCert), certPEM(otherCert)), wantPub: p384().Public(), wantCerts: 2},
		{name: "non-matching certificate", data: concat(pkcs8PEM(t, p384()), certPEM(otherCert)), wantMsg: "does not match"},
		{name: "non-matching certificate of the same type", data: concat(pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048())), certPEM(otherRSACert)), wantMsg: "does not match"},
		{name: "own certificate not first", data: concat(pkcs8PEM(t, p384()), certPEM(otherCert), certPEM(ecCert)), wantMsg: "first"},
		{name: "corrupt certificate", data: concat(pkcs8PEM(t, p384()), pemOf("CERTIFICATE", []byte("junk"))), wantMsg: "certificate"},

		// Refusals.
		{name: "two private keys", data: concat(pkcs8PEM(t, p256()), pkcs8PEM(t, p384())), wantMsg: "more than one private key"},
		{name: "two copies of one key", data: concat(pkcs8PEM(t, p256()), sec1PEM(t, p256())), wantMsg: "more than one private key"},
		{name: "encrypted PKCS#8", data: encryptedPKCS8PEM, wantMsg: "encrypted"},
		{name: "encrypted PKCS#8 after a key", data: concat(pkcs8PEM(t, p256()), encryptedPKCS8PEM), wantMsg: "encrypted"},
		{name: "legacy encrypted RSA", data: legacyEncryptedPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048())), wantMsg: "encrypted"},
		{name: "legacy encrypted EC", data: legacyEncryptedPEM(t, "EC PRIVATE KEY", ecSEC1), wantMsg: "encrypted"},
		{name: "corrupt PKCS#8 body", data: pemOf("PRIVATE KEY", []byte("not der")), wantMsg: "PRIVATE KEY"},
		{name: "PKCS#1 body labelled EC", data: pemOf("EC PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048())), wantMsg: "EC PRIVATE KEY"},
		{name: "X25519 PKCS#8", data: pkcs8PEM(t, x25519Key()), wantErr: jwk.ErrUnsupportedKey},
		{name: "garbage", data: []byte("this is not a key"), wantErr: jwk.ErrNoKey},
		{name: "empty", data: nil, wantErr: jwk.ErrNoKey},
		{name: "whitespace", data: []byte(" \n\t"), wantErr: jwk.ErrNoKey},
		{name: "truncated PEM", data: pkcs8PEM(t, p256())[:60], wantErr: jwk.ErrNoKey},
		{name: "public key only", data: pkixPEM(t, p256().Public()), wantErr: jwk.ErrNoKey},
		{name: "certificate only", data: certPEM(ecCert), wantErr: jwk.ErrNoKey},
		{name: "unknown PEM type", data: pemOf("OPENSSH PRIVATE KEY", []byte("opaque")), wantErr: jwk.ErrNoKey},

		// JWK JSON.
		{name: "private RSA JWK", data: jwkJSON(t, rsa2048()), wantPub: rsa2048().Public()},
		{name: "private EC JWK", data: jwkJSON(t, p521()), wantPub: p521().Public()},
		{name: "private Ed25519 JWK", data: jwkJSON(t, ed()), wantPub: ed().Public()},
		{name: "private JWK with whitespace", data: concat([]byte("\n  "), jwkJSON(t, p256()), []byte("\n")), wantPub: p256().Public()},
		{name: "private JWK with x5c", data: jwkJSON(t, p384(), ecCert), wantPub: p384().Public(), wantCerts: 1},
		{name: "private JWK with foreign x5c", data: jwkJSON(t, p384(), otherCert), wantMsg: "JWK"},
		{name: "public JWK", data: jwkJSON(t, p256().Public()), wantErr: jwk.ErrNoKey},
		{name: "public RSA JWK", data: jwkJSON(t, rsa2048().Public()), wantErr: jwk.ErrNoKey},
		{name: "symmetric JWK", data: jwkJSON(t, []byte("0123456789abcdef0123456789abcdef")), wantErr: jwk.ErrUnsupportedKey},
		{name: "broken JSON", data: []byte(`{"kty":"EC",`), wantMsg: "JWK"},
		{name: "JWK without kty", data: []byte(`{"kid":"x"}`), wantMsg: "JWK"},
		{name: "JWK set", data: []byte(`{"keys":[]}`), wantMsg: "JWK"},
	}
}

func TestParsePrivateKey(t *testing.T) {
	for _, tt := range privateKeyCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			s, certs, err := jwk.ParsePrivateKey(tt.data)
			if tt.wantPub != nil {
				if err != nil {
					t.Fatalf("ParsePrivateKey: %v", err)
				}
				if !sameKey(tt.wantPub, s.Public()) {
					t.Errorf("parsed key %T does not match", s)
				}
				if !isPrivate(s) {
					t.Errorf("parsed signer is %T; want a private key", s)
				}
				if len(certs) != tt.wantCerts {
					t.Errorf("got %d certificates; want %d", len(certs), tt.wantCerts)
				}
				if len(certs) > 0 && !sameKey(tt.wantPub, certs[0].PublicKey) {
					t.Errorf("first certificate is not the key's")
				}
				return
			}
			checkParseError(t, err, tt)
		})
	}
}

func checkParseError(t *testing.T, err error, tt parseCase) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v %q", tt.wantErr, tt.wantMsg)
	}
	if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
		t.Errorf("error = %v; want %v", err, tt.wantErr)
	}
	if tt.wantErr == nil && errors.Is(err, jwk.ErrNoKey) {
		// A key that is present but unusable must not be reported as
		// "no key": the operator would look in the wrong place.
		t.Errorf("error = %v; want a specific error, not ErrNoKey", err)
	}
	if !strings.Contains(err.Error(), tt.wantMsg) {
		t.Errorf("error %q does not mention %q", err, tt.wantMsg)
	}
	if !strings.HasPrefix(err.Error(), "jwk: ") {
		t.Errorf("error %q is not prefixed by the package", err)
	}
}

func TestParsePublicKey(t *testing.T) {
	ecCert := makeCert(t, p384(), "ec")
	rsaCert := makeCert(t, rsa2048(), "rsa")
	edCert := makeCert(t, ed(), "ed")
	otherCert := makeCert(t, p256b(), "other")

	tests := []parseCase{
		{name: "PUBLIC KEY RSA", data: pkixPEM(t, rsa2048().Public()), wantPub: rsa2048().Public()},
		{name: "PUBLIC KEY P-256", data: pkixPEM(t, p256().Public()), wantPub: p256().Public()},
		{name: "PUBLIC KEY P-521", data: pkixPEM(t, p521().Public()), wantPub: p521().Public()},
		{name: "PUBLIC KEY Ed25519", data: pkixPEM(t, ed().Public()), wantPub: ed().Public()},
		{name: "RSA PUBLIC KEY", data: pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa2048().PublicKey)), wantPub: rsa2048().Public()},
		{name: "certificate only", data: certPEM(ecCert), wantPub: p384().Public(), wantCerts: 1},
		{name: "RSA certificate only", data: certPEM(rsaCert), wantPub: rsa2048().Public(), wantCerts: 1},
		{name: "leaf and issuer", data: concat(certPEM(edCert), certPEM(otherCert)), wantPub: ed().Public(), wantCerts: 2},
		{name: "PUBLIC KEY and its certificate", data: concat(pkixPEM(t, p384().Public()), certPEM(ecCert)), wantPub: p384().Public(), wantCerts: 1},
		{name: "PUBLIC KEY and a foreign certificate", data: concat(pkixPEM(t, p384().Public()), certPEM(otherCert)), wantMsg: "does not match"},
		{name: "private PKCS#8", data: pkcs8PEM(t, p521()), wantPub: p521().Public()},
		{name: "private PKCS#1", data: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048())), wantPub: rsa2048().Public()},
		{name: "private SEC1 and certificate", data: concat(sec1PEM(t, p384()), certPEM(ecCert)), wantPub: p384().Public(), wantCerts: 1},
		{name: "private key and a foreign certificate", data: concat(sec1PEM(t, p384()), certPEM(otherCert)), wantMsg: "does not match"},
		{name: "public JWK", data: jwkJSON(t, p256().Public()), wantPub: p256().Public()},
		{name: "public RSA JWK", data: jwkJSON(t, rsa2048().Public()), wantPub: rsa2048().Public()},
		{name: "public Ed25519 JWK with x5c", data: jwkJSON(t, ed().Public(), edCert), wantPub: ed().Public(), wantCerts: 1},
		{name: "private JWK", data: jwkJSON(t, rsa2048()), wantPub: rsa2048().Public()},
		{name: "private Ed25519 JWK", data: jwkJSON(t, ed()), wantPub: ed().Public()},

		{name: "X25519 PUBLIC KEY", data: pkixPEM(t, x25519Key().Public()), wantErr: jwk.ErrUnsupportedKey},
		{name: "corrupt PUBLIC KEY", data: pemOf("PUBLIC KEY", []byte("junk")), wantMsg: "PUBLIC KEY"},
		{name: "corrupt RSA PUBLIC KEY", data: pemOf("RSA PUBLIC KEY", []byte("junk")), wantMsg: "RSA PUBLIC KEY"},
		{name: "corrupt certificate", data: pemOf("CERTIFICATE", []byte("junk")), wantMsg: "certificate"},
		{name: "encrypted private key", data: encryptedPKCS8PEM, wantMsg: "encrypted"},
		{name: "legacy encrypted private key", data: legacyEncryptedPEM(t, "EC PRIVATE KEY", func() []byte {
			der, err := x509.MarshalECPrivateKey(p256())
			if err != nil {
				t.Fatal(err)
			}
			return der
		}()), wantMsg: "encrypted"},
		{name: "two private keys", data: concat(pkcs8PEM(t, p256()), pkcs8PEM(t, p384())), wantMsg: "more than one"},
		{name: "symmetric JWK", data: jwkJSON(t, []byte("0123456789abcdef0123456789abcdef")), wantErr: jwk.ErrNoKey},
		{name: "broken JSON", data: []byte(`{"kty":`), wantMsg: "JWK"},
		{name: "garbage", data: []byte("garbage"), wantErr: jwk.ErrNoKey},
		{name: "empty", data: nil, wantErr: jwk.ErrNoKey},
		{name: "unknown PEM type", data: pemOf("SSH2 PUBLIC KEY", []byte("opaque")), wantErr: jwk.ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, certs, err := jwk.ParsePublicKey(tt.data)
			if tt.wantPub != nil {
				if err != nil {
					t.Fatalf("ParsePublicKey: %v", err)
				}
				if isPrivate(pub) {
					t.Fatalf("ParsePublicKey returned private key material %T", pub)
				}
				switch pub.(type) {
				case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
				default:
					t.Fatalf("ParsePublicKey returned %T; want a public key", pub)
				}
				if !sameKey(tt.wantPub, pub) {
					t.Errorf("parsed key %T does not match", pub)
				}
				if len(certs) != tt.wantCerts {
					t.Errorf("got %d certificates; want %d", len(certs), tt.wantCerts)
				}
				return
			}
			checkParseError(t, err, tt)
		})
	}
}

// Everything ParsePrivateKey accepts, ParsePublicKey accepts too, and
// returns the public half of the same key.
func TestParsePublicKeyAcceptsPrivateInputs(t *testing.T) {
	for _, tt := range privateKeyCases(t) {
		if tt.wantPub == nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			pub, certs, err := jwk.ParsePublicKey(tt.data)
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if isPrivate(pub) || !sameKey(tt.wantPub, pub) {
				t.Errorf("ParsePublicKey returned %T; want the public half of the key", pub)
			}
			if len(certs) != tt.wantCerts {
				t.Errorf("got %d certificates; want %d", len(certs), tt.wantCerts)
			}
		})
	}
}
