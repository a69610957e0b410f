package jwk_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
)

var b64url = base64.RawURLEncoding

func TestGenerate(t *testing.T) {
	for _, alg := range key.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			s, err := jwk.Generate(alg, 2048)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			switch k := s.(type) {
			case *rsa.PrivateKey:
				if !alg.IsRSA() {
					t.Fatalf("%s: got an RSA key", alg)
				}
				if k.N.BitLen() != 2048 {
					t.Errorf("RSA key is %d bits; want 2048", k.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if k.Curve != alg.Curve() {
					t.Errorf("%s: curve %s; want %s", alg, k.Curve.Params().Name, alg.Curve().Params().Name)
				}
			case ed25519.PrivateKey:
				if alg != key.EdDSA {
					t.Fatalf("%s: got an Ed25519 key", alg)
				}
			default:
				t.Fatalf("%s: unexpected key type %T", alg, s)
			}
			if err := jwk.CheckAlgorithm(alg, s.Public()); err != nil {
				t.Errorf("CheckAlgorithm(%s, generated key): %v", alg, err)
			}
		})
	}
}

func TestGenerateFreshKeys(t *testing.T) {
	for _, alg := range []key.Algorithm{key.ES256, key.EdDSA} {
		a, err := jwk.Generate(alg, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := jwk.Generate(alg, 0)
		if err != nil {
			t.Fatal(err)
		}
		if sameKey(a.Public(), b.Public()) {
			t.Errorf("%s: two Generate calls returned the same key", alg)
		}
	}
}

func TestGenerateUnknownAlgorithm(t *testing.T) {
	for _, alg := range []key.Algorithm{"", "HS256", "none", "rs256", "ES256K"} {
		s, err := jwk.Generate(alg, 2048)
		if !errors.Is(err, key.ErrUnknownAlgorithm) {
			t.Errorf("Generate(%q) error = %v; want ErrUnknownAlgorithm", alg, err)
		}
		if s != nil {
			t.Errorf("Generate(%q) returned a key with an error", alg)
		}
	}
}

func TestCheckAlgorithm(t *testing.T) {
	keys := []struct {
		name string
		pub  crypto.PublicKey
		desc string // how the error describes it
	}{
		{"RSA 2048", rsa2048().Public(), "RSA 2048"},
		{"RSA 1024", rsa1024().Public(), "1024"},
		{"P-256", p256().Public(), "ECDSA P-256"},
		{"P-384", p384().Public(), "ECDSA P-384"},
		{"P-521", p521().Public(), "ECDSA P-521"},
		{"Ed25519", ed().Public(), "Ed25519"},
		{"X25519", x25519Key().Public(), "*ecdh.PublicKey"},
		{"nil", nil, "<nil>"},
	}
	fits := map[key.Algorithm]string{
		key.RS256: "RSA 2048", key.RS384: "RSA 2048", key.RS512: "RSA 2048",
		key.PS256: "RSA 2048", key.PS384: "RSA 2048", key.PS512: "RSA 2048",
		key.ES256: "P-256", key.ES384: "P-384", key.ES512: "P-521",
		key.EdDSA: "Ed25519",
	}
	if len(fits) != len(key.Algorithms()) {
		t.Fatalf("test covers %d algorithms; key.Algorithms() has %d", len(fits), len(key.Algorithms()))
	}
	for _, alg := range key.Algorithms() {
		for _, k := range keys {
			t.Run(string(alg)+"/"+k.name, func(t *testing.T) {
				err := jwk.CheckAlgorithm(alg, k.pub)
				if fits[alg] == k.name {
					if err != nil {
						t.Fatalf("CheckAlgorithm: %v; want nil", err)
					}
					return
				}
				if !errors.Is(err, jwk.ErrAlgorithmMismatch) {
					t.Fatalf("CheckAlgorithm error = %v; want ErrAlgorithmMismatch", err)
				}
				if msg := err.Error(); !strings.Contains(msg, string(alg)) || !strings.Contains(msg, k.desc) {
					t.Errorf("error %q should name %s and %q", msg, alg, k.desc)
				}
			})
		}
	}
	t.Run("unknown algorithm", func(t *testing.T) {
		for _, alg := range []key.Algorithm{"", "HS256", "none"} {
			if err := jwk.CheckAlgorithm(alg, rsa2048().Public()); !errors.Is(err, key.ErrUnknownAlgorithm) {
				t.Errorf("CheckAlgorithm(%q) error = %v; want ErrUnknownAlgorithm", alg, err)
			}
		}
	})
}

func TestMarshalPrivateRoundTrip(t *testing.T) {
	for name, s := range distinctKeys() {
		t.Run(name, func(t *testing.T) {
			der, err := jwk.MarshalPrivate(s)
			if err != nil {
				t.Fatalf("MarshalPrivate: %v", err)
			}
			// The encoding is standard PKCS#8.
			if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
				t.Fatalf("MarshalPrivate output is not PKCS#8: %v", err)
			}
			got, err := jwk.UnmarshalPrivate(der)
			if err != nil {
				t.Fatalf("UnmarshalPrivate: %v", err)
			}
			if e, ok := got.(interface{ Equal(crypto.PrivateKey) bool }); !ok || !e.Equal(s) {
				t.Errorf("round trip changed the key: got %T", got)
			}
		})
	}
}

func TestUnmarshalPrivateErrors(t *testing.T) {
	x25519DER, err := x509.MarshalPKCS8PrivateKey(x25519Key())
	if err != nil {
		t.Fatal(err)
	}
	good, err := jwk.MarshalPrivate(p256())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		der     []byte
		wantErr error // nil: any error
	}{
		{name: "nil", der: nil},
		{name: "garbage", der: []byte("not DER at all")},
		{name: "truncated", der: good[:len(good)/2]},
		{name: "PKCS#1 instead of PKCS#8", der: x509.MarshalPKCS1PrivateKey(rsa2048())},
		{name: "X25519 cannot sign", der: x25519DER, wantErr: jwk.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := jwk.UnmarshalPrivate(tt.der)
			if err == nil {
				t.Fatalf("UnmarshalPrivate succeeded with %T", s)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("UnmarshalPrivate error = %v; want %v", err, tt.wantErr)
			}
			if s != nil {
				t.Errorf("UnmarshalPrivate returned a key with an error")
			}
		})
	}
}

func TestMarshalPrivateUnsupported(t *testing.T) {
	der, err := jwk.MarshalPrivate(brokenSigner{pub: p256().Public()})
	if err == nil {
		t.Fatalf("MarshalPrivate(opaque signer) = %x; want an error", der)
	}
}

func TestSelfSigned(t *testing.T) {
	notBefore := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	notAfter := notBefore.Add(90 * 24 * time.Hour)
	for name, s := range distinctKeys() {
		t.Run(name, func(t *testing.T) {
			const kid = "kid-123"
			der, err := jwk.SelfSigned(s, kid, notBefore, notAfter)
			if err != nil {
				t.Fatalf("SelfSigned: %v", err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatalf("ParseCertificate: %v", err)
			}
			if !sameKey(s.Public(), c.PublicKey) {
				t.Errorf("certificate public key %T does not equal the key", c.PublicKey)
			}
			// Not a CA, so CheckSignatureFrom would refuse it as a parent;
			// check the signature over the TBS bytes directly.
			if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
				t.Errorf("certificate is not self-signed by the key: %v", err)
			}
			if got, want := c.Subject.CommonName, "signet signing key "+kid; got != want {
				t.Errorf("subject CN = %q; want %q", got, want)
			}
			if got, want := c.NotBefore, notBefore.Add(-5*time.Minute); !got.Equal(want) {
				t.Errorf("NotBefore = %v; want %v (5 minutes of clock skew)", got, want)
			}
			if !c.NotAfter.Equal(notAfter) {
				t.Errorf("NotAfter = %v; want %v", c.NotAfter, notAfter)
			}
			if c.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Errorf("KeyUsage = %v; want DigitalSignature only", c.KeyUsage)
			}
			if !c.BasicConstraintsValid || c.IsCA {
				t.Errorf("BasicConstraintsValid = %v, IsCA = %v; want a valid non-CA certificate", c.BasicConstraintsValid, c.IsCA)
			}
			if c.SerialNumber.Sign() <= 0 {
				t.Errorf("serial %v is not positive", c.SerialNumber)
			}
		})
	}
}

func TestSelfSignedSerialsDiffer(t *testing.T) {
	serials := map[string]bool{}
	for range 10 {
		der, err := jwk.SelfSigned(ed(), "k", certNotBefore, certNotAfter)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		serials[c.SerialNumber.String()] = true
	}
	if len(serials) != 10 {
		t.Errorf("10 certificates have %d distinct serials", len(serials))
	}
}

func TestSelfSignedSignerError(t *testing.T) {
	der, err := jwk.SelfSigned(brokenSigner{pub: p256().Public()}, "k", certNotBefore, certNotAfter)
	if !errors.Is(err, errSignerBroken) {
		t.Fatalf("SelfSigned error = %v; want the signer's error", err)
	}
	if der != nil {
		t.Errorf("SelfSigned returned a certificate with an error")
	}
}

// RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint.
func TestThumbprintRFC7638(t *testing.T) {
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		e    = "AQAB"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := b64url.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b64url.DecodeString(e)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("public key", func(t *testing.T) {
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
		got, err := jwk.Thumbprint(pub)
		if err != nil {
			t.Fatalf("Thumbprint: %v", err)
		}
		if got != want {
			t.Errorf("Thumbprint = %s; want %s", got, want)
		}
	})
	t.Run("parsed from the RFC's JWK", func(t *testing.T) {
		// The kid, alg and member order do not enter the thumbprint.
		doc := `{"kty":"RSA","n":"` + n + `","e":"` + e + `","alg":"RS256","kid":"2011-04-29"}`
		pub, _, err := jwk.ParsePublicKey([]byte(doc))
		if err != nil {
			t.Fatalf("ParsePublicKey: %v", err)
		}
		got, err := jwk.Thumbprint(pub)
		if err != nil {
			t.Fatalf("Thumbprint: %v", err)
		}
		if got != want {
			t.Errorf("Thumbprint = %s; want %s", got, want)
		}
	})
}

// rfc7638 computes a thumbprint from the RFC's rules, independently of
// go-jose: the required members in lexicographic order, no whitespace,
// SHA-256, base64url.
func rfc7638(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	var input string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		input = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64url.EncodeToString(big.NewInt(int64(k.E)).Bytes()), b64url.EncodeToString(k.N.Bytes()))
	case *ecdsa.PublicKey:
		pt, err := k.Bytes() // 0x04 | X | Y, each the curve's full size
		if err != nil {
			t.Fatal(err)
		}
		size := (len(pt) - 1) / 2
		input = fmt.Sprintf(`{"crv":"%s","kty":"EC","x":"%s","y":"%s"}`, k.Curve.Params().Name, b64url.EncodeToString(pt[1:1+size]), b64url.EncodeToString(pt[1+size:]))
	case ed25519.PublicKey:
		input = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64url.EncodeToString(k))
	default:
		t.Fatalf("rfc7638: %T", pub)
	}
	sum := sha256.Sum256([]byte(input))
	return b64url.EncodeToString(sum[:])
}

func TestThumbprint(t *testing.T) {
	for name, s := range distinctKeys() {
		t.Run(name, func(t *testing.T) {
			got, err := jwk.Thumbprint(s.Public())
			if err != nil {
				t.Fatalf("Thumbprint: %v", err)
			}
			if want := rfc7638(t, s.Public()); got != want {
				t.Errorf("Thumbprint = %s; want %s", got, want)
			}
		})
	}
	a, _ := jwk.Thumbprint(p256().Public())
	b, _ := jwk.Thumbprint(p256b().Public())
	if a == b {
		t.Errorf("two P-256 keys have the same thumbprint %s", a)
	}
}

func TestThumbprintUnsupported(t *testing.T) {
	for _, pub := range []crypto.PublicKey{nil, []byte("secret"), "key", x25519Key().Public()} {
		if tp, err := jwk.Thumbprint(pub); err == nil {
			t.Errorf("Thumbprint(%T) = %q; want an error", pub, tp)
		}
	}
}

// privateMembers are the JWK members that carry private key material (RFC
// 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2; "priv" for AKP keys).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// publicMembers are exactly the members a public JWK of each key type
// carries, besides kty, use, kid and alg.
var publicMembers = map[string][]string{
	"RSA": {"n", "e"},
	"EC":  {"crv", "x", "y"},
	"OKP": {"crv", "x"},
}

func ktyOf(alg key.Algorithm) string {
	switch alg.Family() {
	case key.FamilyEC:
		return "EC"
	case key.FamilyEdDSA:
		return "OKP"
	}
	return "RSA"
}

func crvOf(alg key.Algorithm) string {
	switch alg {
	case key.ES256:
		return "P-256"
	case key.ES384:
		return "P-384"
	case key.ES512:
		return "P-521"
	case key.EdDSA:
		return "Ed25519"
	}
	return ""
}

func marshalMembers(t *testing.T, jk jose.JSONWebKey) (map[string]any, []byte) {
	t.Helper()
	b, err := json.Marshal(jk)
	if err != nil {
		t.Fatalf("marshal JWK: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, b
}

func sortedMembers(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestPublic(t *testing.T) {
	for _, alg := range key.Algorithms() {
		for _, withCerts := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/certs=%v", alg, withCerts), func(t *testing.T) {
				s := signerFor(alg)
				var certs []*x509.Certificate
				if withCerts {
					// The key's own certificate, then an unrelated issuer's.
					certs = []*x509.Certificate{makeCert(t, s, "leaf"), makeCert(t, edb(), "issuer")}
				}
				const kid = "kid-" + "abc"
				jk, err := jwk.Public(kid, alg, s.Public(), certs)
				if err != nil {
					t.Fatalf("Public: %v", err)
				}
				m, raw := marshalMembers(t, jk)

				kty := ktyOf(alg)
				want := append([]string{"kty", "use", "kid", "alg"}, publicMembers[kty]...)
				if withCerts {
					want = append(want, "x5c", "x5t", "x5t#S256")
				}
				sort.Strings(want)
				if got := sortedMembers(m); !slices.Equal(got, want) {
					t.Errorf("members = %v; want %v\n%s", got, want, raw)
				}
				for member, v := range map[string]string{"kty": kty, "use": "sig", "kid": kid, "alg": string(alg)} {
					if m[member] != v {
						t.Errorf("%s = %v; want %q", member, m[member], v)
					}
				}
				if crv := crvOf(alg); crv != "" && m["crv"] != crv {
					t.Errorf("crv = %v; want %q", m["crv"], crv)
				}
				if alg.Family() == key.FamilyEC {
					// RFC 7518 §6.2.1.2: coordinates are the full curve size.
					size := (alg.Curve().Params().BitSize + 7) / 8
					for _, c := range []string{"x", "y"} {
						b, err := b64url.DecodeString(m[c].(string))
						if err != nil || len(b) != size {
							t.Errorf("%s is %d bytes (%v); want %d", c, len(b), err, size)
						}
					}
				}

				// The JSON decodes back to the same public key.
				var back jose.JSONWebKey
				if err := back.UnmarshalJSON(raw); err != nil {
					t.Fatalf("go-jose cannot read the JWK back: %v", err)
				}
				if !back.IsPublic() || !sameKey(s.Public(), back.Key) {
					t.Errorf("decoded key %T does not equal the public key", back.Key)
				}

				if withCerts {
					checkCertMembers(t, m, certs)
				}
			})
		}
	}
}

// checkCertMembers checks x5c (standard base64 DER, in order), x5t
// (base64url SHA-1 of the first DER) and x5t#S256 (base64url SHA-256).
func checkCertMembers(t *testing.T, m map[string]any, certs []*x509.Certificate) {
	t.Helper()
	x5c, ok := m["x5c"].([]any)
	if !ok || len(x5c) != len(certs) {
		t.Fatalf("x5c = %v; want %d certificates", m["x5c"], len(certs))
	}
	for i, c := range certs {
		if got, want := x5c[i], base64.StdEncoding.EncodeToString(c.Raw); got != want {
			t.Errorf("x5c[%d] is not the standard base64 DER of certificate %d", i, i)
		}
	}
	s1 := sha1.Sum(certs[0].Raw)
	s256 := sha256.Sum256(certs[0].Raw)
	if got, want := m["x5t"], b64url.EncodeToString(s1[:]); got != want {
		t.Errorf("x5t = %v; want %s", got, want)
	}
	if got, want := m["x5t#S256"], b64url.EncodeToString(s256[:]); got != want {
		t.Errorf("x5t#S256 = %v; want %s", got, want)
	}
}

// No private member ever reaches a public JWK: a private key given to
// Public is refused, and the JWK of the public key has none.
func TestPublicNeverLeaksPrivateMembers(t *testing.T) {
	for _, alg := range key.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			s := signerFor(alg)

			jk, err := jwk.Public("k", alg, s, nil)
			if !errors.Is(err, jwk.ErrUnsupportedKey) {
				t.Fatalf("Public(private %T) error = %v; want ErrUnsupportedKey", s, err)
			}
			if jk.Key != nil {
				t.Fatalf("Public(private key) returned a JWK holding %T", jk.Key)
			}
			if b, err := json.Marshal(jk); err == nil {
				t.Fatalf("the JWK returned with the error marshals to %s", b)
			}

			jk, err = jwk.Public("k", alg, s.Public(), []*x509.Certificate{makeCert(t, s, "leaf")})
			if err != nil {
				t.Fatalf("Public(public key): %v", err)
			}
			if isPrivate(jk.Key) {
				t.Fatalf("JWK holds private key material %T", jk.Key)
			}
			set, err := jwk.EncodeSet([]jose.JSONWebKey{jk})
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(set, &doc); err != nil || len(doc.Keys) != 1 {
				t.Fatalf("JWKS %s: %v", set, err)
			}
			for _, member := range privateMembers {
				if _, ok := doc.Keys[0][member]; ok {
					t.Errorf("JWKS has private member %q: %s", member, set)
				}
			}
			// go-jose reads it as a public key.
			var ks jose.JSONWebKeySet
			if err := json.Unmarshal(set, &ks); err != nil {
				t.Fatal(err)
			}
			if len(ks.Keys) != 1 || !ks.Keys[0].IsPublic() {
				t.Errorf("go-jose does not read the JWKS as one public key")
			}
		})
	}
}

func TestPublicRefusesNonPublicKeys(t *testing.T) {
	tests := []struct {
		name string
		pub  crypto.PublicKey
	}{
		{"nil", nil},
		{"RSA private", rsa2048()},
		{"ECDSA private", p256()},
		{"Ed25519 private", ed()},
		{"RSA public by value", *rsa2048().Public().(*rsa.PublicKey)},
		{"ECDSA public by value", *p256().Public().(*ecdsa.PublicKey)},
		{"X25519 public", x25519Key().Public()},
		{"symmetric key", []byte("0123456789abcdef0123456789abcdef")},
		{"string", "key"},
		{"opaque signer", brokenSigner{pub: p256().Public()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jk, err := jwk.Public("k", key.ES256, tt.pub, nil)
			if !errors.Is(err, jwk.ErrUnsupportedKey) {
				t.Fatalf("Public(%T) error = %v; want ErrUnsupportedKey", tt.pub, err)
			}
			if jk.Key != nil {
				t.Errorf("Public(%T) returned a JWK with a key", tt.pub)
			}
		})
	}
}

func TestEncodeSet(t *testing.T) {
	mk := func(kid string, alg key.Algorithm) jose.JSONWebKey {
		jk, err := jwk.Public(kid, alg, signerFor(alg).Public(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return jk
	}
	tests := []struct {
		name     string
		keys     []jose.JSONWebKey
		wantKids []string
	}{
		{name: "nil", keys: nil, wantKids: []string{}},
		{name: "empty", keys: []jose.JSONWebKey{}, wantKids: []string{}},
		{name: "one", keys: []jose.JSONWebKey{mk("a", key.ES256)}, wantKids: []string{"a"}},
		{name: "order kept", keys: []jose.JSONWebKey{mk("z", key.EdDSA), mk("a", key.RS256), mk("m", key.ES512)}, wantKids: []string{"z", "a", "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := jwk.EncodeSet(tt.keys)
			if err != nil {
				t.Fatalf("EncodeSet: %v", err)
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("EncodeSet output is not JSON: %v\n%s", err, b)
			}
			if len(doc) != 1 || doc["keys"] == nil {
				t.Fatalf("EncodeSet = %s; want only a keys member", b)
			}
			if len(tt.keys) == 0 && string(doc["keys"]) != "[]" {
				t.Errorf("keys = %s; want [] (never null)", doc["keys"])
			}
			var ks jose.JSONWebKeySet
			if err := json.Unmarshal(b, &ks); err != nil {
				t.Fatalf("go-jose cannot read the set: %v", err)
			}
			kids := []string{}
			for _, k := range ks.Keys {
				kids = append(kids, k.KeyID)
			}
			if !slices.Equal(kids, tt.wantKids) {
				t.Errorf("kids = %v; want %v", kids, tt.wantKids)
			}
		})
	}
}

func TestEncodeSetError(t *testing.T) {
	b, err := jwk.EncodeSet([]jose.JSONWebKey{{Key: "not a key", KeyID: "bad"}})
	if err == nil {
		t.Fatalf("EncodeSet = %s; want an error", b)
	}
	if !strings.HasPrefix(err.Error(), "jwk: ") {
		t.Errorf("error %q is not prefixed by the package", err)
	}
}

// The x5c member's bytes are the DER, so a relying party can rebuild the
// certificate and find the key in it.
func TestPublicCertificateRoundTrip(t *testing.T) {
	s := p384()
	cert := makeCert(t, s, "leaf")
	jk, err := jwk.Public("k", key.ES384, s.Public(), []*x509.Certificate{cert})
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwk.EncodeSet([]jose.JSONWebKey{jk})
	if err != nil {
		t.Fatal(err)
	}
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(b, &ks); err != nil {
		t.Fatal(err)
	}
	if len(ks.Keys) != 1 || len(ks.Keys[0].Certificates) != 1 || !bytes.Equal(ks.Keys[0].Certificates[0].Raw, cert.Raw) {
		t.Fatalf("certificate did not survive the JWKS round trip")
	}
}
