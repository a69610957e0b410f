package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/seal"
)

// fuzzPlaintext is the only plaintext ever sealed under the fuzz secrets, so
// any input that opens must yield it.
var fuzzPlaintext = []byte("fuzz plaintext: a PKCS#8 key would be here")

// FuzzOpen checks that Open never panics, that every failure is one of the
// package's sentinel errors, and that anything that opens is genuine.
func FuzzOpen(f *testing.F) {
	s := newSealer(f, secretA, secretB)
	underA := mustSeal(f, newSealer(f, secretA), "k", key.ES256, fuzzPlaintext)
	underB := mustSeal(f, s, "k", key.ES256, fuzzPlaintext)
	underC := mustSeal(f, newSealer(f, secretC), "k", key.ES256, fuzzPlaintext)
	f.Add(underA, "k", "ES256")
	f.Add(underB, "k", "ES256")
	f.Add(underB, "other", "ES256")
	f.Add(underB, "k", "RS256")
	f.Add(underC, "k", "ES256")
	f.Add(underB[:minSealed], "k", "ES256")
	f.Add(underB[:bodyStart], "k", "ES256")
	f.Add([]byte{}, "", "")
	f.Add([]byte{1}, "k", "EdDSA")
	f.Add(bytes.Repeat([]byte{1}, 64), "k", "ES256")

	f.Fuzz(func(t *testing.T, sealed []byte, kid, alg string) {
		in := bytes.Clone(sealed)
		_ = s.SealedWithFirst(sealed) // must not panic either
		got, err := s.Open(kid, key.Algorithm(alg), sealed)
		if !bytes.Equal(in, sealed) {
			t.Fatalf("Open modified its input")
		}
		if err != nil {
			if got != nil {
				t.Fatalf("Open returned plaintext with error %v", err)
			}
			if !errors.Is(err, seal.ErrMalformed) && !errors.Is(err, seal.ErrUnknownSecret) && !errors.Is(err, seal.ErrAuthentication) {
				t.Fatalf("Open error %v is none of the sentinels", err)
			}
			return
		}
		if !bytes.Equal(got, fuzzPlaintext) {
			t.Fatalf("Open() = %q; only %q was ever sealed", got, fuzzPlaintext)
		}
		if kid != "k" || alg != "ES256" {
			t.Fatalf("data sealed for (k, ES256) opened as (%q, %q)", kid, alg)
		}
	})
}
