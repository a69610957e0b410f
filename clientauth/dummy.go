package clientauth

import (
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
)

// Cost returns the work of verifying against s, in KiB-passes (argon2id
// memory times passes); 0 for the fast kinds.
func (s *Secret) Cost() uint64 {
	if s.kind != KindArgon2id {
		return 0
	}
	return uint64(s.memory) * uint64(s.time)
}

// Dummy returns an argon2id secret with the parameters of s and a random
// salt and hash that no input matches. Verifying against it costs what
// verifying against s costs, so a login form can spend the same work on an
// unknown user as on a wrong password. For the fast kinds it returns a
// random sha256 secret. rnd nil means crypto/rand.
func (s *Secret) Dummy(rnd io.Reader) (*Secret, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	d := &Secret{kind: KindSHA256}
	if s.kind == KindArgon2id {
		d = &Secret{kind: KindArgon2id, time: s.time, memory: s.memory, threads: s.threads,
			salt: make([]byte, len(s.salt)), hash: make([]byte, len(s.hash)),
			sem: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
		if _, err := io.ReadFull(rnd, d.salt); err != nil {
			return nil, fmt.Errorf("clientauth: dummy salt: %w", err)
		}
		if _, err := io.ReadFull(rnd, d.hash); err != nil {
			return nil, fmt.Errorf("clientauth: dummy hash: %w", err)
		}
		return d, nil
	}
	if _, err := io.ReadFull(rnd, d.digest[:]); err != nil {
		return nil, fmt.Errorf("clientauth: dummy digest: %w", err)
	}
	return d, nil
}
