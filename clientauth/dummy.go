package clientauth

import (
	"crypto/rand"
	"fmt"
	"io"
)

// Cost returns the work of verifying against s, in KiB-passes (argon2id
// memory times passes); 0 for the fast kinds.
func (s *Secret) Cost() uint64 {
	if s.kind != KindArgon2id {
		return 0
	}
	return uint64(s.memory) * uint64(s.time)
}

// MemoryKiB returns the memory one verification against s allocates, in
// KiB (argon2id's m); 0 for the fast kinds.
func (s *Secret) MemoryKiB() uint64 {
	if s.kind != KindArgon2id {
		return 0
	}
	return uint64(s.memory)
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
			salt: make([]byte, len(s.salt)), hash: make([]byte, len(s.hash))}
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

// TotalCost returns the work of a failed [Check] against secrets: the sum
// of their costs.
func TotalCost(secrets []*Secret) uint64 {
	var c uint64
	for _, s := range secrets {
		c += s.Cost()
	}
	return c
}

// Dummies returns secrets that no input matches and that cost what a
// failed [Check] against the costliest of sets costs: the dummies of that
// set's secrets. Without any set, or when every set is fast, it returns
// one fast dummy. rnd nil means crypto/rand.
func Dummies(rnd io.Reader, sets ...[]*Secret) ([]*Secret, error) {
	var costliest []*Secret
	for _, set := range sets {
		if costliest == nil || TotalCost(set) > TotalCost(costliest) {
			costliest = set
		}
	}
	if TotalCost(costliest) == 0 {
		costliest = []*Secret{{kind: KindSHA256}}
	}
	out := make([]*Secret, 0, len(costliest))
	for _, s := range costliest {
		d, err := s.Dummy(rnd)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
