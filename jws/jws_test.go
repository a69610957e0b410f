package jws_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
)

func TestSignVerify(t *testing.T) {
	typs := []string{jws.TypeAccessToken, jws.TypeJWT, "custom+jwt", `we"ird\typ`, ""}
	payloads := map[string][]byte{
		"claims": []byte(`{"iss":"https://signet.example","sub":"alice","aud":"api","exp":1767225600}`),
		"empty":  {},
		"binary": func() []byte {
			b := make([]byte, 256)
			for i := range b {
				b[i] = byte(i)
			}
			return b
		}(),
		"large": bytes.Repeat([]byte(`{"scope":"read write"}`), 500),
	}
	for _, alg := range key.Algorithms() {
		k := newKey(t, "kid-"+string(alg), alg, signerFor(alg))
		for _, typ := range typs {
			for pname, payload := range payloads {
				t.Run(fmt.Sprintf("%s/typ=%q/%s", alg, typ, pname), func(t *testing.T) {
					token, err := k.Sign(typ, payload)
					if err != nil {
						t.Fatalf("Sign: %v", err)
					}
					got, hdr := verify(t, token, alg, k.Public())
					if !bytes.Equal(got, payload) {
						t.Errorf("payload = %q; want %q", got, payload)
					}
					if hdr.Algorithm != string(alg) {
						t.Errorf("go-jose alg = %q; want %s", hdr.Algorithm, alg)
					}
					if hdr.KeyID != k.KID() {
						t.Errorf("go-jose kid = %q; want %q", hdr.KeyID, k.KID())
					}

					rawHeader, rawPayload, _ := splitToken(t, token)
					if !bytes.Equal(rawPayload, payload) {
						t.Errorf("payload segment = %q; want %q", rawPayload, payload)
					}
					var h map[string]any
					if err := json.Unmarshal(rawHeader, &h); err != nil {
						t.Fatalf("header is not JSON: %v: %s", err, rawHeader)
					}
					want := map[string]any{"alg": string(alg), "kid": k.KID()}
					if typ != "" {
						want["typ"] = typ
					}
					if !maps.Equal(h, want) {
						t.Errorf("header = %v; want exactly %v", h, want)
					}
				})
			}
		}
	}
}

func TestSignatureLength(t *testing.T) {
	want := map[key.Algorithm]int{
		key.RS256: 256, key.RS384: 256, key.RS512: 256,
		key.PS256: 256, key.PS384: 256, key.PS512: 256,
		key.ES256: 64, key.ES384: 96, key.ES512: 132,
		key.EdDSA: 64,
	}
	for _, alg := range key.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := newKey(t, "k", alg, signerFor(alg))
			runs := 3
			if alg.Family() == key.FamilyEC {
				// Fresh r and s each time; the rare short-integer shapes
				// are forced in TestSignECDSAShapesVerify.
				runs = 20
			}
			for range runs {
				token, err := k.Sign(jws.TypeJWT, []byte("{}"))
				if err != nil {
					t.Fatal(err)
				}
				_, _, sig := splitToken(t, token)
				if len(sig) != want[alg] {
					t.Fatalf("signature is %d bytes; want %d", len(sig), want[alg])
				}
			}
		})
	}
}

// Each family gets what it needs from the signer: RS* a digest and the
// hash, PS* PSS options with salt length = hash length (RFC 7518 §3.5), ES*
// a digest, EdDSA the signing input itself.
func TestSignerInputs(t *testing.T) {
	for _, alg := range key.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			rec := &recordingSigner{Signer: signerFor(alg)}
			k := newKey(t, "k", alg, rec)
			token, err := k.Sign(jws.TypeAccessToken, []byte(`{"sub":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			input := token[:strings.LastIndexByte(token, '.')]
			if alg == key.EdDSA {
				if rec.opts.HashFunc() != crypto.Hash(0) {
					t.Errorf("opts hash = %v; want 0 (pure Ed25519)", rec.opts.HashFunc())
				}
				if string(rec.digest) != input {
					t.Errorf("EdDSA signer got %q; want the signing input %q", rec.digest, input)
				}
				return
			}
			if rec.opts.HashFunc() != alg.Hash() {
				t.Errorf("opts hash = %v; want %v", rec.opts.HashFunc(), alg.Hash())
			}
			h := alg.Hash().New()
			h.Write([]byte(input))
			if !bytes.Equal(rec.digest, h.Sum(nil)) {
				t.Errorf("signer got %x; want %v of the signing input", rec.digest, alg.Hash())
			}
			pss, isPSS := rec.opts.(*rsa.PSSOptions)
			if isPSS != (alg.Family() == key.FamilyRSAPSS) {
				t.Fatalf("opts = %T; PSS expected: %v", rec.opts, alg.Family() == key.FamilyRSAPSS)
			}
			if isPSS && pss.SaltLength != rsa.PSSSaltLengthEqualsHash {
				t.Errorf("PSS salt length = %d; want PSSSaltLengthEqualsHash", pss.SaltLength)
			}
		})
	}
}

// go-jose verifies PSS with any salt length; check the salt length is the
// hash length with crypto/rsa directly.
func TestPSSSaltLength(t *testing.T) {
	for _, alg := range []key.Algorithm{key.PS256, key.PS384, key.PS512} {
		t.Run(string(alg), func(t *testing.T) {
			k := newKey(t, "k", alg, rsaKey())
			token, err := k.Sign(jws.TypeJWT, []byte("{}"))
			if err != nil {
				t.Fatal(err)
			}
			input := token[:strings.LastIndexByte(token, '.')]
			_, _, sig := splitToken(t, token)
			h := alg.Hash().New()
			h.Write([]byte(input))
			opts := &rsa.PSSOptions{SaltLength: alg.Hash().Size(), Hash: alg.Hash()}
			if err := rsa.VerifyPSS(&rsaKey().PublicKey, alg.Hash(), h.Sum(nil), sig, opts); err != nil {
				t.Errorf("VerifyPSS with salt length %d: %v", alg.Hash().Size(), err)
			}
		})
	}
}

func TestKeyAccessors(t *testing.T) {
	s := signerFor(key.ES384)
	k := newKey(t, "kid-7", key.ES384, s)
	if k.KID() != "kid-7" {
		t.Errorf("KID() = %q", k.KID())
	}
	if k.Algorithm() != key.ES384 {
		t.Errorf("Algorithm() = %s", k.Algorithm())
	}
	if k.Signer() != s {
		t.Errorf("Signer() is not the signer given")
	}
	if pub, ok := k.Public().(*ecdsa.PublicKey); !ok || !pub.Equal(s.Public()) {
		t.Errorf("Public() = %T; want the signer's public key", k.Public())
	}
}

// Kids are JSON-escaped in the header, whatever they hold.
func TestKIDEscaping(t *testing.T) {
	for _, kid := range []string{`"quoted"`, `back\slash`, "<html>&amp;", "ünïcode ✓", "tab\there", "a.b.c"} {
		t.Run(kid, func(t *testing.T) {
			k := newKey(t, kid, key.EdDSA, edKey())
			for _, typ := range []string{jws.TypeAccessToken, jws.TypeJWT, "x"} {
				token, err := k.Sign(typ, []byte("{}"))
				if err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(token, "."); n != 2 {
					t.Fatalf("token has %d dots; want 2", n)
				}
				_, hdr := verify(t, token, key.EdDSA, edKey().Public())
				if hdr.KeyID != kid {
					t.Errorf("kid = %q; want %q", hdr.KeyID, kid)
				}
			}
		})
	}
}

func TestNewKeyMismatch(t *testing.T) {
	keys := map[string]crypto.Signer{
		"RSA":     rsaKey(),
		"P-256":   p256(),
		"P-384":   p384(),
		"P-521":   p521(),
		"Ed25519": edKey(),
		"X25519":  errSigner{pub: x25519K().Public()},
		"nil":     errSigner{pub: nil},
	}
	fits := map[key.Algorithm]string{
		key.RS256: "RSA", key.RS384: "RSA", key.RS512: "RSA",
		key.PS256: "RSA", key.PS384: "RSA", key.PS512: "RSA",
		key.ES256: "P-256", key.ES384: "P-384", key.ES512: "P-521",
		key.EdDSA: "Ed25519",
	}
	for _, alg := range key.Algorithms() {
		for _, name := range slices.Sorted(maps.Keys(keys)) {
			t.Run(string(alg)+"/"+name, func(t *testing.T) {
				k, err := jws.NewKey("k", alg, keys[name])
				if fits[alg] == name {
					if err != nil || k == nil {
						t.Fatalf("NewKey = %v, %v; want a key", k, err)
					}
					return
				}
				if !errors.Is(err, jws.ErrKeyMismatch) {
					t.Fatalf("NewKey error = %v; want ErrKeyMismatch", err)
				}
				if k != nil {
					t.Errorf("NewKey returned a key with an error")
				}
				if !strings.Contains(err.Error(), string(alg)) {
					t.Errorf("error %q does not name %s", err, alg)
				}
			})
		}
	}
}

func TestNewKeyInvalid(t *testing.T) {
	tests := []struct {
		name    string
		kid     string
		alg     key.Algorithm
		wantErr error  // sentinel, if any
		wantMsg string // substring
	}{
		{name: "empty kid", kid: "", alg: key.ES256, wantMsg: "kid"},
		{name: "empty kid, wrong key too", kid: "", alg: key.RS256, wantMsg: "kid"},
		{name: "unknown algorithm", kid: "k", alg: "HS256", wantErr: key.ErrUnknownAlgorithm, wantMsg: "HS256"},
		{name: "none", kid: "k", alg: "none", wantErr: key.ErrUnknownAlgorithm, wantMsg: "none"},
		{name: "empty algorithm", kid: "k", alg: "", wantErr: key.ErrUnknownAlgorithm},
		{name: "lower case", kid: "k", alg: "es256", wantErr: key.ErrUnknownAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := jws.NewKey(tt.kid, tt.alg, p256())
			if err == nil {
				t.Fatalf("NewKey succeeded; want an error")
			}
			if k != nil {
				t.Errorf("NewKey returned a key with an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v; want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

// A failing signer (an HSM offline, a KMS refusing) fails Sign with its
// error, for every family.
func TestSignerErrorPropagates(t *testing.T) {
	for _, alg := range key.Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k := newKey(t, "kid-err", alg, errSigner{pub: signerFor(alg).Public()})
			for _, typ := range []string{jws.TypeAccessToken, jws.TypeJWT, "", "custom"} {
				token, err := k.Sign(typ, []byte("{}"))
				if !errors.Is(err, errHSM) {
					t.Fatalf("Sign(%q) error = %v; want the signer's error", typ, err)
				}
				if token != "" {
					t.Errorf("Sign returned token %q with an error", token)
				}
				for _, want := range []string{"kid-err", string(alg)} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
				}
			}
		})
	}
}

// Crafted DER from a signer reaches the token as fixed-width R||S, or
// fails Sign.
func TestSignECDSAEncoding(t *testing.T) {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	tests := []struct {
		name    string
		der     []byte
		wantSig []byte // nil: Sign must fail
	}{
		{name: "full width", der: derSig(rep(0x11, 32), rep(0x22, 32)), wantSig: append(rep(0x11, 32), rep(0x22, 32)...)},
		{name: "r with leading zero", der: derSig(append([]byte{0}, rep(0x81, 32)...), rep(0x22, 32)), wantSig: append(rep(0x81, 32), rep(0x22, 32)...)},
		{name: "s with leading zero", der: derSig(rep(0x11, 32), append([]byte{0}, rep(0xff, 32)...)), wantSig: append(rep(0x11, 32), rep(0xff, 32)...)},
		{name: "r short", der: derSig(rep(0x11, 30), rep(0x22, 32)), wantSig: slices.Concat([]byte{0, 0}, rep(0x11, 30), rep(0x22, 32))},
		{name: "s short", der: derSig(rep(0x11, 32), []byte{0x05}), wantSig: slices.Concat(rep(0x11, 32), rep(0, 31), []byte{0x05})},
		{name: "r oversize", der: derSig(rep(0x11, 33), rep(0x22, 32))},
		{name: "s oversize after its zero", der: derSig(rep(0x11, 32), append([]byte{0}, rep(0x22, 33)...))},
		{name: "not DER", der: []byte("signature")},
		{name: "empty", der: nil},
		{name: "raw R||S instead of DER", der: append(rep(0x11, 32), rep(0x22, 32)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKey(t, "k", key.ES256, derSigner{pub: p256().Public(), der: tt.der})
			token, err := k.Sign(jws.TypeJWT, []byte("{}"))
			if tt.wantSig == nil {
				if err == nil {
					t.Fatalf("Sign = %q; want an error", token)
				}
				if token != "" {
					t.Errorf("Sign returned a token with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			_, _, sig := splitToken(t, token)
			if !bytes.Equal(sig, tt.wantSig) {
				t.Errorf("signature = %x; want %x", sig, tt.wantSig)
			}
		})
	}
}

// Real ECDSA signatures of every shape convert to R||S that verifies: r or
// s with the DER sign byte, r or s shorter than the curve, and integers
// padded with redundant zero bytes by a sloppy signer.
func TestSignECDSAShapesVerify(t *testing.T) {
	shapes := []struct {
		name   string
		rare   bool // about 1 signature in 256 on P-256 and P-384
		want   func(size int) func(r, s []byte) bool
		encode func(r, s []byte) []byte
	}{
		{
			// The DER sign byte: r's top bit is set. (For P-521 a
			// full-width r never has it, so this is a 65-byte r.)
			name: "r has a leading zero",
			want: func(int) func(r, s []byte) bool {
				return func(r, s []byte) bool { return len(r) > 1 && r[0] == 0 }
			},
		},
		{
			name: "r shorter than the curve",
			rare: true,
			want: func(size int) func(r, s []byte) bool {
				return func(r, s []byte) bool { return len(stripZeros(r)) < size }
			},
		},
		{
			name: "s shorter than the curve",
			rare: true,
			want: func(size int) func(r, s []byte) bool {
				return func(r, s []byte) bool { return len(stripZeros(s)) < size }
			},
		},
		{
			name: "redundant zero padding",
			want: func(int) func(r, s []byte) bool { return func(r, s []byte) bool { return true } },
			encode: func(r, s []byte) []byte {
				return derSig(append([]byte{0, 0}, r...), append([]byte{0, 0, 0}, s...))
			},
		},
	}
	for _, alg := range []key.Algorithm{key.ES256, key.ES384, key.ES512} {
		priv := signerFor(alg).(*ecdsa.PrivateKey)
		for _, shape := range shapes {
			if shape.rare && alg == key.ES384 {
				// Hundreds of P-384 signatures (seconds under -race) to
				// find one; TestASN1ToRaw covers the 48-byte width.
				continue
			}
			t.Run(string(alg)+"/"+shape.name, func(t *testing.T) {
				signer := pickySigner{PrivateKey: priv, want: shape.want(curveSize(alg)), encode: shape.encode}
				k := newKey(t, "k", alg, signer)
				token, err := k.Sign(jws.TypeAccessToken, []byte(`{"sub":"x"}`))
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				verify(t, token, alg, priv.Public())
				_, _, sig := splitToken(t, token)
				if len(sig) != 2*curveSize(alg) {
					t.Errorf("signature is %d bytes; want %d", len(sig), 2*curveSize(alg))
				}
				input := token[:strings.LastIndexByte(token, '.')]
				if !verifyRawECDSA(&priv.PublicKey, alg, input, sig) {
					t.Errorf("crypto/ecdsa does not verify the R||S signature")
				}
			})
		}
	}
}

// A Key is immutable and safe for concurrent use; run with -race.
func TestConcurrentSign(t *testing.T) {
	algs := []key.Algorithm{key.RS256, key.PS256, key.ES256, key.EdDSA}
	typs := []string{jws.TypeAccessToken, jws.TypeJWT, "", "custom"}
	const goroutines = 8
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			k := newKey(t, "shared", alg, signerFor(alg))
			perG := 20
			if alg.IsRSA() {
				perG = 4
			}
			type result struct {
				token, typ string
				payload    []byte
				err        error
			}
			results := make(chan result, goroutines*perG)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						typ := typs[(g+i)%len(typs)]
						payload := fmt.Appendf(nil, `{"g":%d,"i":%d}`, g, i)
						token, err := k.Sign(typ, payload)
						results <- result{token, typ, payload, err}
					}
				})
			}
			wg.Wait()
			close(results)
			n := 0
			for r := range results {
				n++
				if r.err != nil {
					t.Fatalf("Sign: %v", r.err)
				}
				got, hdr := verify(t, r.token, alg, k.Public())
				if !bytes.Equal(got, r.payload) {
					t.Errorf("payload = %s; want %s", got, r.payload)
				}
				gotTyp, _ := hdr.ExtraHeaders[jose.HeaderType].(string)
				if gotTyp != r.typ {
					t.Errorf("typ = %q; want %q", gotTyp, r.typ)
				}
			}
			if n != goroutines*perG {
				t.Errorf("got %d tokens; want %d", n, goroutines*perG)
			}
		})
	}
}
