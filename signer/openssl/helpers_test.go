//go:build openssl && cgo

package openssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
)

// Keys are expensive (RSA-4096 takes seconds under -race); each size is
// generated once per test binary.
var (
	rsaKeysMu sync.Mutex
	rsaKeys   = map[int]*rsa.PrivateKey{}
	ecKeysMu  sync.Mutex
	ecKeys    = map[elliptic.Curve]*ecdsa.PrivateKey{}
)

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	if k, ok := rsaKeys[bits]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	rsaKeys[bits] = k
	return k
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	ecKeysMu.Lock()
	defer ecKeysMu.Unlock()
	if k, ok := ecKeys[c]; ok {
		return k
	}
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecKeys[c] = k
	return k
}

func mustNew(t testing.TB, priv crypto.Signer) *Signer {
	t.Helper()
	s, err := New(priv)
	if err != nil {
		t.Fatalf("New(%T): %v", priv, err)
	}
	return s
}

// testPool returns a two-thread Pool, closed when the test ends.
func testPool(t testing.TB) *Pool {
	t.Helper()
	p, err := NewPool(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// mode is a way to make Signers: signing on the caller's thread (New) or
// on a Pool's threads.
type mode struct {
	name string
	new  func(crypto.Signer) (*Signer, error)
}

// modes returns both ways, the Pool closed when the test ends.
func modes(t testing.TB) []mode {
	return []mode{{"direct", New}, {"pool", testPool(t).New}}
}

func mustMode(t testing.TB, m mode, priv crypto.Signer) *Signer {
	t.Helper()
	s, err := m.new(priv)
	if err != nil {
		t.Fatalf("%s: New(%T): %v", m.name, priv, err)
	}
	return s
}

func digest(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}

func randomMessage(t testing.TB) []byte {
	t.Helper()
	var n [1]byte
	if _, err := rand.Read(n[:]); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, int(n[0])*3)
	if _, err := rand.Read(msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

var hashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

func pssOpts(h crypto.Hash) *rsa.PSSOptions {
	return &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
}

// tamper returns a copy of sig with one bit flipped.
func tamper(sig []byte) []byte {
	out := append([]byte(nil), sig...)
	out[len(out)/2] ^= 0x10
	return out
}
