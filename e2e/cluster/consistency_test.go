package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
)

// fakeStore returns fixed records (or an error) without validating them,
// as a damaged store would.
type fakeStore struct {
	recs []key.Record
	err  error
}

func (f fakeStore) Keys(context.Context) ([]key.Record, error) { return f.recs, f.err }
func (fakeStore) CreateKey(context.Context, key.Record) error  { return errors.New("read-only") }
func (fakeStore) UpdateKey(context.Context, key.Record) error  { return errors.New("read-only") }
func (fakeStore) DeleteKey(context.Context, string) error      { return errors.New("read-only") }

func newSealer(t *testing.T, secret string) *seal.Sealer {
	t.Helper()
	s, err := seal.New([][]byte{[]byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testRecord returns a real key of alg, sealed by sealer (nil: stored
// plain), signing from signsFrom for rotation.
func testRecord(t *testing.T, sealer *seal.Sealer, alg key.Algorithm, kid string, created, signsFrom time.Time, withCert bool) key.Record {
	t.Helper()
	priv, err := jwk.Generate(alg, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := jwk.MarshalPrivate(priv)
	if err != nil {
		t.Fatal(err)
	}
	r := key.Record{KID: kid, Algorithm: alg, Created: created, SignsFrom: signsFrom,
		RetiresAt: signsFrom.Add(4 * time.Second), DeleteAfter: signsFrom.Add(6 * time.Second),
		Protection: key.ProtectionNone, PrivateKey: der}
	if withCert {
		cert, err := jwk.SelfSigned(priv, kid, created, r.DeleteAfter)
		if err != nil {
			t.Fatal(err)
		}
		r.X509, r.Certificate = true, cert
	}
	if sealer != nil {
		if r.PrivateKey, err = sealer.Seal(kid, alg, der); err != nil {
			t.Fatal(err)
		}
		r.Protection = key.ProtectionAESGCM
	}
	return r
}

func TestCheckConsistency(t *testing.T) {
	ctx := context.Background()
	sealer := newSealer(t, "cluster-consistency-secret-1")
	other := newSealer(t, "cluster-consistency-secret-2")
	first := testRecord(t, sealer, key.ES256, "es-1", t0, t0, false)
	successor := testRecord(t, sealer, key.ES256, "es-2", t0.Add(2*time.Second), first.RetiresAt, false)
	ed := testRecord(t, sealer, key.EdDSA, "ed-1", t0, t0, true)
	racer := testRecord(t, sealer, key.ES256, "es-racer", t0.Add(time.Millisecond), t0.Add(time.Millisecond), false)
	revokedRacer := racer
	revokedRacer.Revoked = t0.Add(time.Second)
	foreign := testRecord(t, other, key.ES256, "es-foreign", t0, t0, false)
	tampered := testRecord(t, sealer, key.EdDSA, "ed-tampered", t0, t0, false)
	tampered.PrivateKey[len(tampered.PrivateKey)-1] ^= 1
	plain := testRecord(t, nil, key.EdDSA, "ed-plain", t0, t0, false)
	// An ES256 key where an ES384 one belongs, sealed for ES384.
	mislabelled := testRecord(t, nil, key.ES256, "es-mislabelled", t0, t0, false)
	mislabelled.Algorithm, mislabelled.Protection = key.ES384, key.ProtectionAESGCM
	mislabelled.PrivateKey, _ = sealer.Seal("es-mislabelled", key.ES384, mislabelled.PrivateKey)
	wrongCert := testRecord(t, sealer, key.EdDSA, "ed-wrong-cert", t0, t0, true)
	wrongCert.Certificate = ed.Certificate
	invalid := first
	invalid.KID, invalid.RetiresAt = "es-invalid", invalid.SignsFrom

	tests := []struct {
		name   string
		store  fakeStore
		sealer *seal.Sealer
		want   []string // substrings of the error; none: consistent
		is     error
	}{
		{"a series and its successor", fakeStore{recs: []key.Record{first, successor, ed}}, sealer, nil, nil},
		{"empty", fakeStore{}, sealer, nil, nil},
		{"two keys of one rotation", fakeStore{recs: []key.Record{first, ed, racer}}, sealer,
			[]string{"ES256 keys es-1 and es-racer both sign from", "more than one key per rotation"}, nil},
		{"a revoked duplicate does not count", fakeStore{recs: []key.Record{first, revokedRacer}}, sealer, nil, nil},
		{"sealed with another secret", fakeStore{recs: []key.Record{foreign}}, sealer, []string{"key es-foreign (ES256): does not decrypt"}, seal.ErrUnknownSecret},
		{"tampered ciphertext", fakeStore{recs: []key.Record{tampered}}, sealer, []string{"key ed-tampered"}, seal.ErrAuthentication},
		{"sealed, no secret given", fakeStore{recs: []key.Record{first}}, nil, []string{"key es-1 (ES256): the key is sealed but no protection secret was given"}, nil},
		{"unprotected key, no secret", fakeStore{recs: []key.Record{plain}}, nil, nil, nil},
		{"key of another algorithm", fakeStore{recs: []key.Record{mislabelled}}, sealer, []string{"key es-mislabelled (ES384)"}, jwk.ErrAlgorithmMismatch},
		{"certificate of another key", fakeStore{recs: []key.Record{wrongCert}}, sealer, []string{"key ed-wrong-cert (EdDSA): the certificate holds another public key"}, nil},
		{"invalid record", fakeStore{recs: []key.Record{invalid, ed}}, sealer, []string{"key es-invalid"}, key.ErrInvalidRecord},
		{"unreadable store", fakeStore{err: fmt.Errorf("down: %w", keystore.ErrUnavailable)}, sealer, []string{"the store cannot be read"}, keystore.ErrUnavailable},
		{"every problem is named", fakeStore{recs: []key.Record{foreign, tampered, first, racer}}, sealer,
			[]string{"es-foreign", "ed-tampered", "es-1 and es-racer"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckConsistency(ctx, tc.store, tc.sealer)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("CheckConsistency = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckConsistency = nil, want an error naming %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if !strings.HasPrefix(err.Error(), "cluster: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}
