package keybackend_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keybackend/backendtest"
)

func newKID(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// TestBackendLifecycle generates a key of every algorithm the backend
// offers, signs a JWT through the backend and verifies it with the stored
// public key, then destroys it and checks the object is gone.
func TestBackendLifecycle(t *testing.T) {
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			b := backendtest.Open(t, typ)
			ctx := context.Background()
			for _, tc := range []struct {
				alg  key.Algorithm
				bits int
			}{{key.ES256, 0}, {key.ES384, 0}, {key.RS256, 2048}, {key.PS256, 2048}, {key.RS384, 3072}} {
				t.Run(string(tc.alg), func(t *testing.T) {
					kid := newKID(t)
					ref, err := b.Generate(ctx, kid, tc.alg, tc.bits)
					if err != nil {
						t.Fatal(err)
					}
					if ref.Backend != typ {
						t.Fatalf("ref.Backend = %q; want %q", ref.Backend, typ)
					}
					enc, err := keybackend.EncodeRef(ref)
					if err != nil {
						t.Fatal(err)
					}
					back, err := keybackend.DecodeRef(enc)
					if err != nil {
						t.Fatal(err)
					}
					s, err := b.Signer(ctx, back, tc.alg)
					if err != nil {
						t.Fatal(err)
					}
					k, err := jws.NewKey(kid, tc.alg, s)
					if err != nil {
						t.Fatal(err)
					}
					tok, err := k.Sign(jws.TypeJWT, []byte(`{"sub":"x"}`))
					if err != nil {
						t.Fatal(err)
					}
					pub, err := back.PublicKey()
					if err != nil {
						t.Fatal(err)
					}
					js, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := js.Verify(pub); err != nil {
						t.Fatalf("token signed by the %s backend does not verify with the stored public key: %v", typ, err)
					}
					if err := b.Destroy(ctx, back); err != nil {
						t.Fatal(err)
					}
					if _, err := b.Signer(ctx, back, tc.alg); !errors.Is(err, keybackend.ErrObjectMissing) {
						t.Fatalf("after Destroy, Signer err = %v; want ErrObjectMissing", err)
					}
					if err := b.Destroy(ctx, back); err != nil {
						t.Fatalf("destroying a destroyed key: %v; want nil", err)
					}
				})
			}
		})
	}
}

// TestBackendMissingObject: a reference to an object that was never made
// is ErrObjectMissing, not a new key.
func TestBackendMissingObject(t *testing.T) {
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			b := backendtest.Open(t, typ)
			ctx := context.Background()
			ref, err := b.Generate(ctx, newKID(t), key.ES256, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Destroy(ctx, ref)
			other := ref
			if typ == keybackend.PKCS11 {
				other.ID, other.Label = newKID(t), other.Label+"x"
			} else {
				other.ID = strings.Replace(ref.ID, ref.ID[len(ref.ID)-12:], "000000000000", 1)
			}
			if _, err := b.Signer(ctx, other, key.ES256); !errors.Is(err, keybackend.ErrObjectMissing) {
				t.Fatalf("Signer(missing) err = %v; want ErrObjectMissing", err)
			}
		})
	}
}

// TestBackendUnsupported: an algorithm the backend cannot do is an error
// naming the backend.
func TestBackendUnsupported(t *testing.T) {
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			b := backendtest.Open(t, typ)
			err := b.Check(key.RS256, 1024)
			if !errors.Is(err, keybackend.ErrUnsupported) || !strings.Contains(err.Error(), typ) {
				t.Fatalf("Check(RS256, 1024) = %v; want ErrUnsupported naming %s", err, typ)
			}
			if typ == keybackend.PKCS11 {
				if err := b.Check(key.EdDSA, 0); !errors.Is(err, keybackend.ErrUnsupported) || !strings.Contains(err.Error(), "pkcs11") {
					t.Fatalf("Check(EdDSA) = %v; want ErrUnsupported naming pkcs11", err)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		c    keybackend.Config
		want string
	}{
		{keybackend.Config{Type: "vault"}, `keyBackend.type "vault" is unknown`},
		{keybackend.Config{Type: "pkcs11", TokenLabel: "t", Pin: "p"}, "keyBackend.module is required"},
		{keybackend.Config{Type: "pkcs11", Module: "m", Pin: "p"}, "keyBackend.tokenLabel is required"},
		{keybackend.Config{Type: "pkcs11", Module: "m", TokenLabel: "t"}, "keyBackend.pin is required"},
		{keybackend.Config{Type: "awskms"}, "keyBackend.region is required"},
	} {
		err := tc.c.Validate()
		if !errors.Is(err, keybackend.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v; want ErrConfig with %q", tc.c, err, tc.want)
		}
	}
	for _, c := range []keybackend.Config{{}, {Type: "software"}, {Type: "awskms", Region: "eu-west-1"}} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
}

func TestDecodeRefRejectsIncomplete(t *testing.T) {
	for _, s := range []string{`{}`, `{"backend":"pkcs11","id":"a"}`, `not json`} {
		if _, err := keybackend.DecodeRef([]byte(s)); err == nil {
			t.Errorf("DecodeRef(%s) = nil error", s)
		}
	}
}

// TestTimedSignerTimeout: a backend call that does not return in time
// fails with ErrUnavailable after the timeout, without waiting for it.
func TestTimedSignerTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := keybackend.TimedSigner(nil, 50*time.Millisecond, "slow key", func(ctx context.Context, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
		select {
		case <-release:
			return []byte("late"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	_, err := s.Sign(nil, []byte("digest"), crypto.SHA256)
	if !errors.Is(err, keybackend.ErrUnavailable) || !strings.Contains(err.Error(), "slow key: no signature within 50ms") {
		t.Fatalf("Sign = %v; want ErrUnavailable naming the key and the timeout", err)
	}
	s = keybackend.TimedSigner(nil, time.Second, "broken key", func(context.Context, []byte, crypto.SignerOpts) ([]byte, error) {
		return nil, errors.New("CKR_DEVICE_REMOVED")
	})
	if _, err := s.Sign(nil, []byte("digest"), crypto.SHA256); !errors.Is(err, keybackend.ErrUnavailable) || !strings.Contains(err.Error(), "CKR_DEVICE_REMOVED") {
		t.Fatalf("Sign = %v; want ErrUnavailable with the backend's reason", err)
	}
}
