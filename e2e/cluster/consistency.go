package cluster

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
)

// CheckConsistency reads every key record of s and returns an error naming
// each problem it finds, or nil. A consistent store is one every instance
// can serve from:
//
//   - the store can be read (a record that cannot be parsed fails Keys);
//   - every record passes key.Record.Validate;
//   - every private key opens with sealer (nil: protection is off, so a
//     sealed key is a problem), parses, and fits its algorithm; an X.509
//     record's certificate holds the same public key; a key held by a key
//     backend (pkcs11, awskms) has a reference with its public key and no
//     private material;
//   - at most one key per algorithm per rotation: the signing windows
//     [SignsFrom, RetiresAt) of an algorithm's unrevoked keys do not
//     overlap. Keys created by racing instances, or left twice by an
//     interrupted creation, would share a window.
func CheckConsistency(ctx context.Context, s keystore.Store, sealer *seal.Sealer) error {
	recs, err := s.Keys(ctx)
	if err != nil {
		return fmt.Errorf("cluster: the store cannot be read: %w", err)
	}
	var problems []error
	byAlg := make(map[key.Algorithm][]key.Record)
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			problems = append(problems, fmt.Errorf("key %s: %w", r.KID, err))
			continue
		}
		if err := openKey(r, sealer); err != nil {
			problems = append(problems, fmt.Errorf("key %s (%s): %w", r.KID, r.Algorithm, err))
		}
		if !r.IsRevoked() {
			byAlg[r.Algorithm] = append(byAlg[r.Algorithm], r)
		}
	}
	algs := make([]key.Algorithm, 0, len(byAlg))
	for alg := range byAlg {
		algs = append(algs, alg)
	}
	slices.Sort(algs)
	for _, alg := range algs {
		rs := byAlg[alg]
		slices.SortFunc(rs, func(a, b key.Record) int {
			if c := a.SignsFrom.Compare(b.SignsFrom); c != 0 {
				return c
			}
			return strings.Compare(a.KID, b.KID)
		})
		for i := 1; i < len(rs); i++ {
			for _, prev := range rs[:i] {
				if rs[i].SignsFrom.Before(prev.RetiresAt) {
					problems = append(problems, fmt.Errorf("%s keys %s and %s both sign from %s to %s: more than one key per rotation",
						alg, prev.KID, rs[i].KID, rs[i].SignsFrom.Format(timeFormat), minTime(prev.RetiresAt, rs[i].RetiresAt).Format(timeFormat)))
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cluster: the store is inconsistent: %w", errors.Join(problems...))
	}
	return nil
}

const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// openKey decrypts and parses the private key of r and checks it against
// the algorithm and the certificate.
func openKey(r key.Record, sealer *seal.Sealer) error {
	if r.InBackend() {
		return checkBackendRef(r)
	}
	der := r.PrivateKey
	switch r.Protection {
	case key.ProtectionAESGCM:
		if sealer == nil {
			return errors.New("the key is sealed but no protection secret was given")
		}
		pt, err := sealer.Open(r.KID, r.Algorithm, r.PrivateKey)
		if err != nil {
			return fmt.Errorf("does not decrypt: %w", err)
		}
		der = pt
		defer clear(pt)
	case key.ProtectionNone:
	default:
		return fmt.Errorf("unknown protection %q", r.Protection)
	}
	priv, err := jwk.UnmarshalPrivate(der)
	if err != nil {
		return err
	}
	if err := jwk.CheckAlgorithm(r.Algorithm, priv.Public()); err != nil {
		return err
	}
	if r.X509 {
		cert, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
		if !samePublic(cert.PublicKey, priv.Public()) {
			return errors.New("the certificate holds another public key")
		}
	}
	return nil
}

func samePublic(a, b crypto.PublicKey) bool {
	da, errA := x509.MarshalPKIXPublicKey(a)
	db, errB := x509.MarshalPKIXPublicKey(b)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}

// checkBackendRef checks the record of a key held by a key backend: a
// reference with the public key only (never private material), fitting
// the algorithm and the certificate.
func checkBackendRef(r key.Record) error {
	if _, err := x509.ParsePKCS8PrivateKey(r.PrivateKey); err == nil {
		return errors.New("a backend key's record holds a private key")
	}
	ref, err := keybackend.DecodeRef(r.PrivateKey)
	if err != nil {
		return err
	}
	if ref.Backend != r.Protection {
		return fmt.Errorf("protection %q but the reference names backend %q", r.Protection, ref.Backend)
	}
	pub, err := ref.PublicKey()
	if err != nil {
		return err
	}
	if err := jwk.CheckAlgorithm(r.Algorithm, pub); err != nil {
		return err
	}
	if r.X509 {
		cert, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
		if !samePublic(cert.PublicKey, pub) {
			return errors.New("the certificate holds another public key")
		}
	}
	return nil
}
