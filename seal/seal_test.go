package seal_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/seal"
)

// Layout of sealed data (version 1), from the package documentation:
// 0x01 | secret id (8) | nonce (12) | ciphertext+tag (16).
const (
	idStart    = 1
	nonceStart = idStart + 8
	bodyStart  = nonceStart + 12
	tagLen     = 16
	minSealed  = bodyStart + tagLen

	// revealLen is how much of a secret is enough to count as revealing it.
	revealLen = 8
)

// Fixed secrets, so sealed values (and fuzz corpora) stay valid across runs.
var (
	secretA = []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	secretB = []byte("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
	secretC = []byte("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC")
)

func newSealer(t testing.TB, secrets ...[]byte) *seal.Sealer {
	t.Helper()
	s, err := seal.New(secrets)
	if err != nil {
		t.Fatalf("seal.New: %v", err)
	}
	return s
}

func mustSeal(t testing.TB, s *seal.Sealer, kid string, alg key.Algorithm, pt []byte) []byte {
	t.Helper()
	sealed, err := s.Seal(kid, alg, pt)
	if err != nil {
		t.Fatalf("Seal(%q, %s): %v", kid, alg, err)
	}
	return sealed
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		secrets [][]byte
		wantErr error
		wantMsg string // substring of the error, if any
	}{
		{name: "nil list", secrets: nil, wantErr: seal.ErrWeakSecret, wantMsg: "no secret"},
		{name: "empty list", secrets: [][]byte{}, wantErr: seal.ErrWeakSecret, wantMsg: "no secret"},
		{name: "empty secret", secrets: [][]byte{{}}, wantErr: seal.ErrWeakSecret, wantMsg: "secret 1 is 0 bytes"},
		{name: "15 bytes", secrets: [][]byte{[]byte("short-secret-15")}, wantErr: seal.ErrWeakSecret, wantMsg: "secret 1 is 15 bytes"},
		{name: "second secret short", secrets: [][]byte{secretA, []byte("tiny")}, wantErr: seal.ErrWeakSecret, wantMsg: "secret 2 is 4 bytes"},
		{name: "minimum length", secrets: [][]byte{bytes.Repeat([]byte{'x'}, seal.MinSecretLength)}},
		{name: "32 bytes", secrets: [][]byte{secretA}},
		{name: "three secrets", secrets: [][]byte{secretA, secretB, secretC}},
		{name: "duplicate secrets", secrets: [][]byte{secretA, secretA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := seal.New(tt.secrets)
			if tt.wantErr == nil {
				if err != nil || s == nil {
					t.Fatalf("New() = %v, %v; want a sealer", s, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New() error = %v; want %v", err, tt.wantErr)
			}
			if s != nil {
				t.Errorf("New() returned a sealer with an error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("New() error %q does not contain %q", err, tt.wantMsg)
			}
			for _, sec := range tt.secrets {
				if len(sec) > 0 && strings.Contains(err.Error(), string(sec)) {
					t.Errorf("New() error %q reveals a secret", err)
				}
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	s := newSealer(t, secretA)
	plaintexts := map[string][]byte{
		"empty":   {},
		"nil":     nil,
		"one":     {0x42},
		"pkcs8":   randomBytes(t, 1218),
		"64 KiB":  randomBytes(t, 64<<10),
		"zeroes":  make([]byte, 100),
		"unicode": []byte("clé privée ✓"),
	}
	for _, alg := range key.Algorithms() {
		for name, pt := range plaintexts {
			t.Run(string(alg)+"/"+name, func(t *testing.T) {
				kid := "kid-" + string(alg)
				sealed := mustSeal(t, s, kid, alg, pt)
				if got, want := len(sealed), minSealed+len(pt); got != want {
					t.Errorf("len(sealed) = %d; want %d", got, want)
				}
				if sealed[0] != 1 {
					t.Errorf("version byte = %#x; want 0x01", sealed[0])
				}
				got, err := s.Open(kid, alg, sealed)
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				if !bytes.Equal(got, pt) {
					t.Errorf("Open() = %x; want %x", got, pt)
				}
			})
		}
	}
}

// Secret rotation: a key sealed under one secret opens with any list that
// holds that secret, in any position.
func TestRotation(t *testing.T) {
	pt := []byte("private key bytes")
	tests := []struct {
		name     string
		sealWith [][]byte
		openWith [][]byte
		wantErr  error
	}{
		{name: "same secret", sealWith: [][]byte{secretA}, openWith: [][]byte{secretA}},
		{name: "old secret second", sealWith: [][]byte{secretA}, openWith: [][]byte{secretB, secretA}},
		{name: "old secret last of three", sealWith: [][]byte{secretA}, openWith: [][]byte{secretC, secretB, secretA}},
		{name: "sealed before rotation finished", sealWith: [][]byte{secretA, secretB}, openWith: [][]byte{secretB, secretA}},
		{name: "new secret seals", sealWith: [][]byte{secretB, secretA}, openWith: [][]byte{secretB}},
		{name: "old secret dropped", sealWith: [][]byte{secretA}, openWith: [][]byte{secretB}, wantErr: seal.ErrUnknownSecret},
		{name: "second secret never seals", sealWith: [][]byte{secretB, secretA}, openWith: [][]byte{secretA}, wantErr: seal.ErrUnknownSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := mustSeal(t, newSealer(t, tt.sealWith...), "k1", key.ES256, pt)
			got, err := newSealer(t, tt.openWith...).Open("k1", key.ES256, sealed)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open() error = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(got, pt) {
				t.Errorf("Open() = %q; want %q", got, pt)
			}
			if tt.wantErr != nil && got != nil {
				t.Errorf("Open() returned plaintext %q with an error", got)
			}
		})
	}
}

func TestUnknownSecretMessage(t *testing.T) {
	const kid = "2026-01-kid"
	sealed := mustSeal(t, newSealer(t, secretA), kid, key.RS256, []byte("pt"))
	_, err := newSealer(t, secretB, secretC).Open(kid, key.RS256, sealed)
	if !errors.Is(err, seal.ErrUnknownSecret) {
		t.Fatalf("Open() error = %v; want ErrUnknownSecret", err)
	}
	if errors.Is(err, seal.ErrAuthentication) || errors.Is(err, seal.ErrMalformed) {
		t.Errorf("Open() error %v also matches another sentinel", err)
	}
	msg := err.Error()
	id := hex.EncodeToString(sealed[idStart:nonceStart])
	for _, want := range []string{kid, id} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	// Neither the secret that sealed nor the configured ones, in any
	// common encoding.
	for _, sec := range [][]byte{secretA, secretB, secretC} {
		for _, enc := range []string{
			string(sec),
			string(sec[:revealLen]),
			hex.EncodeToString(sec),
			hex.EncodeToString(sec[:revealLen]),
			base64.StdEncoding.EncodeToString(sec),
			base64.RawURLEncoding.EncodeToString(sec),
		} {
			if strings.Contains(msg, enc) {
				t.Errorf("error %q reveals a secret (%q)", msg, enc)
			}
		}
	}
}

// The secret id names the secret but is not the secret and does not vary
// with the data: two seals under one secret carry the same id, different
// secrets carry different ids.
func TestSecretID(t *testing.T) {
	a := newSealer(t, secretA)
	a1 := mustSeal(t, a, "k", key.EdDSA, []byte("one"))
	a2 := mustSeal(t, a, "other", key.ES512, []byte("two"))
	b1 := mustSeal(t, newSealer(t, secretB, secretA), "k", key.EdDSA, []byte("one"))
	if !bytes.Equal(a1[idStart:nonceStart], a2[idStart:nonceStart]) {
		t.Errorf("secret id differs between seals under one secret: %x, %x", a1[idStart:nonceStart], a2[idStart:nonceStart])
	}
	if bytes.Equal(a1[idStart:nonceStart], b1[idStart:nonceStart]) {
		t.Errorf("secrets A and B have the same id %x", a1[idStart:nonceStart])
	}
	if bytes.Contains(secretA, a1[idStart:nonceStart]) {
		t.Errorf("secret id %x is part of the secret", a1[idStart:nonceStart])
	}
}

// The kid and the algorithm are bound as additional data: a sealed key
// moved to another record does not open.
func TestAdditionalDataBinding(t *testing.T) {
	s := newSealer(t, secretA)
	const kid = "key-1"
	sealed := mustSeal(t, s, kid, key.ES256, []byte("secret key"))
	tests := []struct {
		name string
		kid  string
		alg  key.Algorithm
	}{
		{name: "other kid", kid: "key-2", alg: key.ES256},
		{name: "kid prefix", kid: "key-", alg: key.ES256},
		{name: "kid extended", kid: "key-10", alg: key.ES256},
		{name: "kid case", kid: "KEY-1", alg: key.ES256},
		{name: "empty kid", kid: "", alg: key.ES256},
		{name: "kid with NUL", kid: kid + "\x00", alg: key.ES256},
		{name: "other algorithm same family", kid: kid, alg: key.ES384},
		{name: "other family", kid: kid, alg: key.RS256},
		{name: "empty algorithm", kid: kid, alg: ""},
		{name: "both changed", kid: "key-2", alg: key.EdDSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(tt.kid, tt.alg, sealed)
			if !errors.Is(err, seal.ErrAuthentication) {
				t.Fatalf("Open(%q, %q) error = %v; want ErrAuthentication", tt.kid, tt.alg, err)
			}
			if got != nil {
				t.Errorf("Open() returned plaintext with an error")
			}
		})
	}
	// Control: the right record still opens.
	if _, err := s.Open(kid, key.ES256, sealed); err != nil {
		t.Fatalf("Open with the sealing kid and alg: %v", err)
	}
}

// Flipping any single bit of sealed data makes Open fail, with the error
// of the region hit, and never panic.
func TestBitFlips(t *testing.T) {
	s := newSealer(t, secretA, secretB)
	sealed := mustSeal(t, s, "k", key.PS256, []byte("a private key of some length"))
	for i := range sealed {
		var want error
		switch {
		case i < idStart:
			want = seal.ErrMalformed // version byte
		case i < nonceStart:
			want = seal.ErrUnknownSecret // secret id
		default:
			want = seal.ErrAuthentication // nonce, ciphertext, tag
		}
		for bit := range 8 {
			mutated := bytes.Clone(sealed)
			mutated[i] ^= 1 << bit
			got, err := s.Open("k", key.PS256, mutated)
			if !errors.Is(err, want) {
				t.Errorf("byte %d bit %d: Open() error = %v; want %v", i, bit, err, want)
			}
			if got != nil {
				t.Errorf("byte %d bit %d: Open() returned plaintext", i, bit)
			}
		}
	}
}

func TestMalformed(t *testing.T) {
	s := newSealer(t, secretA)
	valid := mustSeal(t, s, "k", key.RS256, []byte("private"))
	withVersion := func(v byte) []byte {
		b := bytes.Clone(valid)
		b[0] = v
		return b
	}
	garbage := randomBytes(t, 200)
	garbage[0] = 0xff // not the version byte
	tests := []struct {
		name   string
		sealed []byte
	}{
		{name: "nil", sealed: nil},
		{name: "empty", sealed: []byte{}},
		{name: "version only", sealed: []byte{1}},
		{name: "truncated in id", sealed: valid[:5]},
		{name: "header only", sealed: valid[:bodyStart]},
		{name: "header and partial tag", sealed: valid[:minSealed-1]},
		{name: "version 0", sealed: withVersion(0)},
		{name: "version 2", sealed: withVersion(2)},
		{name: "garbage", sealed: garbage},
		{name: "text", sealed: []byte("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n")},
		{name: "short input claiming an unknown secret", sealed: append([]byte{1}, bytes.Repeat([]byte{0xee}, bodyStart)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open("k", key.RS256, tt.sealed)
			if !errors.Is(err, seal.ErrMalformed) {
				t.Fatalf("Open() error = %v; want ErrMalformed", err)
			}
			if got != nil {
				t.Errorf("Open() returned plaintext with an error")
			}
		})
	}
}

// Every truncation fails: below the minimum size it is malformed; above it
// the tag no longer authenticates (a truncated ciphertext cannot be told
// apart from a corrupted one).
func TestTruncation(t *testing.T) {
	s := newSealer(t, secretA)
	sealed := mustSeal(t, s, "k", key.EdDSA, []byte("0123456789abcdef0123456789abcdef"))
	for n := range len(sealed) {
		want := seal.ErrAuthentication
		if n < minSealed {
			want = seal.ErrMalformed
		}
		if _, err := s.Open("k", key.EdDSA, sealed[:n]); !errors.Is(err, want) {
			t.Errorf("truncated to %d of %d bytes: Open() error = %v; want %v", n, len(sealed), err, want)
		}
	}
	if _, err := s.Open("k", key.EdDSA, append(bytes.Clone(sealed), 0)); !errors.Is(err, seal.ErrAuthentication) {
		t.Errorf("extended by a byte: Open() error = %v; want ErrAuthentication", err)
	}
}

func TestNoncesDiffer(t *testing.T) {
	s := newSealer(t, secretA)
	pt := []byte("the same plaintext every time")
	const n = 200
	nonces := make(map[string]bool, n)
	bodies := make(map[string]bool, n)
	for range n {
		sealed := mustSeal(t, s, "k", key.ES256, pt)
		nonces[string(sealed[nonceStart:bodyStart])] = true
		bodies[string(sealed[bodyStart:])] = true
	}
	if len(nonces) != n {
		t.Errorf("%d seals of one plaintext used %d distinct nonces", n, len(nonces))
	}
	if len(bodies) != n {
		t.Errorf("%d seals of one plaintext gave %d distinct ciphertexts", n, len(bodies))
	}
}

func TestSealedWithFirst(t *testing.T) {
	a := newSealer(t, secretA)
	ba := newSealer(t, secretB, secretA)
	underA := mustSeal(t, a, "k", key.RS256, []byte("x"))
	underB := mustSeal(t, ba, "k", key.RS256, []byte("x"))
	badVersion := bytes.Clone(underA)
	badVersion[0] = 2
	tests := []struct {
		name   string
		sealer *seal.Sealer
		sealed []byte
		want   bool
	}{
		{name: "sealed under the only secret", sealer: a, sealed: underA, want: true},
		{name: "sealed under the first secret", sealer: ba, sealed: underB, want: true},
		{name: "sealed under the second secret", sealer: ba, sealed: underA, want: false},
		{name: "sealed under an unknown secret", sealer: a, sealed: underB, want: false},
		{name: "nil", sealer: a, sealed: nil, want: false},
		{name: "truncated header", sealer: a, sealed: underA[:bodyStart-1], want: false},
		{name: "other version", sealer: a, sealed: badVersion, want: false},
		{name: "garbage", sealer: a, sealed: bytes.Repeat([]byte{0xab}, 64), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sealer.SealedWithFirst(tt.sealed); got != tt.want {
				t.Errorf("SealedWithFirst() = %v; want %v", got, tt.want)
			}
		})
	}
}

// The sealed bytes contain no run of the plaintext (nor of the secret):
// the data is encrypted, not merely wrapped.
func TestSealedHidesPlaintext(t *testing.T) {
	s := newSealer(t, secretA)
	const window = 8
	plaintexts := map[string][]byte{
		"repetitive": bytes.Repeat([]byte("AAAAAAAA"), 128),
		"pem-like":   []byte(strings.Repeat("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", 20)),
		"random":     randomBytes(t, 2048),
		"zeroes":     make([]byte, 1024),
	}
	for name, pt := range plaintexts {
		t.Run(name, func(t *testing.T) {
			sealed := mustSeal(t, s, "k", key.RS256, pt)
			for _, secret := range [][]byte{pt, secretA} {
				for i := 0; i+window <= len(secret); i++ {
					if bytes.Contains(sealed, secret[i:i+window]) {
						t.Fatalf("sealed data contains bytes %d..%d (%x) of the input", i, i+window, secret[i:i+window])
					}
				}
			}
		})
	}
}

// A Sealer is documented as safe for concurrent use.
func TestConcurrentUse(t *testing.T) {
	s := newSealer(t, secretA, secretB)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				kid := fmt.Sprintf("g%d-%d", g, i)
				pt := []byte(kid)
				sealed, err := s.Seal(kid, key.ES384, pt)
				if err != nil {
					errs <- err
					return
				}
				got, err := s.Open(kid, key.ES384, sealed)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, pt) {
					errs <- fmt.Errorf("%s: Open() = %q", kid, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Opening returns a fresh slice: zeroing it (as callers do with key bytes)
// leaves the sealed data intact.
func TestOpenReturnsCopy(t *testing.T) {
	s := newSealer(t, secretA)
	sealed := mustSeal(t, s, "k", key.ES256, []byte("plaintext key"))
	before := bytes.Clone(sealed)
	pt, err := s.Open("k", key.ES256, sealed)
	if err != nil {
		t.Fatal(err)
	}
	clear(pt)
	if !bytes.Equal(sealed, before) {
		t.Fatalf("clearing the plaintext changed the sealed data")
	}
	if pt2, err := s.Open("k", key.ES256, sealed); err != nil || string(pt2) != "plaintext key" {
		t.Fatalf("second Open() = %q, %v", pt2, err)
	}
}
