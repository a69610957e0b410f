package keybackend

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/signet-id/signet/key"
)

// Backend types, as configured in keyManagement.keyBackend.type and kept
// in each record (key.Record.Protection for backend keys).
const (
	Software = "software"
	PKCS11   = "pkcs11"
	AWSKMS   = "awskms"
)

// Sentinel errors.
var (
	// ErrUnavailable: the backend did not answer (timeout, network, token
	// removed, throttling). Callers retry; the token endpoint answers
	// temporarily_unavailable.
	ErrUnavailable = errors.New("keybackend: backend unavailable")
	// ErrObjectMissing: the key object a record refers to is not in the
	// backend (deleted by hand, another token, another account).
	ErrObjectMissing = errors.New("keybackend: key object not found in the backend")
	// ErrUnsupported: the backend cannot make keys for that algorithm.
	ErrUnsupported = errors.New("keybackend: algorithm not offered by the backend")
	// ErrConfig: the backend's configuration is invalid.
	ErrConfig = errors.New("keybackend: invalid configuration")
	// ErrNoCgo: this binary was built without cgo, which PKCS#11 needs.
	ErrNoCgo = errors.New("this signet was built without cgo; PKCS#11 needs a cgo build (CGO_ENABLED=1 with a C compiler) to load the module")
	// ErrPublicMismatch: the backend object's public key is not the one
	// the record holds.
	ErrPublicMismatch = errors.New("keybackend: the backend object's public key differs from the stored one")
)

// DefaultSignTimeout bounds one signature when Config.SignTimeout is zero.
const DefaultSignTimeout = 2 * time.Second

// Config is keyManagement.keyBackend.
type Config struct {
	// Type is Software (the default), PKCS11 or AWSKMS.
	Type string
	// Module is the PKCS#11 module (shared library) path.
	Module string
	// TokenLabel names the PKCS#11 token.
	TokenLabel string
	// Pin is the PKCS#11 user PIN.
	Pin string
	// Region is the AWS region.
	Region string
	// Endpoint is an optional KMS-compatible endpoint URL.
	Endpoint string
	// Issuer tags KMS keys (tag "issuer"), so an account with several
	// deployments can tell their keys apart.
	Issuer string
	// SignTimeout bounds one signature; zero means DefaultSignTimeout.
	SignTimeout time.Duration
}

// Validate checks that the fields the type needs are set. The error wraps
// ErrConfig and names the field and the fix.
func (c Config) Validate() error {
	switch c.Type {
	case "", Software:
	case PKCS11:
		if c.Module == "" {
			return fmt.Errorf("%w: keyBackend.module is required with type pkcs11 (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so)", ErrConfig)
		}
		if c.TokenLabel == "" {
			return fmt.Errorf("%w: keyBackend.tokenLabel is required with type pkcs11 (the label given when the token was initialised)", ErrConfig)
		}
		if c.Pin == "" {
			return fmt.Errorf("%w: keyBackend.pin is required with type pkcs11 (the user PIN; e.g. pin: ${SIGNET_HSM_PIN})", ErrConfig)
		}
	case AWSKMS:
		if c.Region == "" {
			return fmt.Errorf("%w: keyBackend.region is required with type awskms (e.g. region: eu-west-1)", ErrConfig)
		}
	default:
		return fmt.Errorf("%w: keyBackend.type %q is unknown; allowed values are software, pkcs11, awskms", ErrConfig, c.Type)
	}
	if c.SignTimeout < 0 {
		return fmt.Errorf("%w: keyBackend sign timeout must not be negative", ErrConfig)
	}
	return nil
}

// Ref is what a store record keeps of a backend key: enough to find the
// object again and the public key, never private material.
type Ref struct {
	// Backend is PKCS11 or AWSKMS.
	Backend string `json:"backend"`
	// ID is the PKCS#11 CKA_ID (hex) or the KMS key ARN.
	ID string `json:"id"`
	// Label is the PKCS#11 CKA_LABEL (the kid).
	Label string `json:"label,omitempty"`
	// Region is the KMS key's region.
	Region string `json:"region,omitempty"`
	// Public is the public key, PKIX DER.
	Public []byte `json:"public"`
}

// EncodeRef serializes a reference for key.Record.PrivateKey.
func EncodeRef(r Ref) ([]byte, error) {
	if r.Backend == "" || r.ID == "" || len(r.Public) == 0 {
		return nil, fmt.Errorf("keybackend: incomplete reference (backend %q, id %q)", r.Backend, r.ID)
	}
	return json.Marshal(r)
}

// DecodeRef parses what EncodeRef wrote.
func DecodeRef(b []byte) (Ref, error) {
	var r Ref
	if err := json.Unmarshal(b, &r); err != nil {
		return Ref{}, fmt.Errorf("keybackend: stored backend reference is not valid JSON: %w", err)
	}
	if r.Backend == "" || r.ID == "" || len(r.Public) == 0 {
		return Ref{}, fmt.Errorf("keybackend: stored backend reference is incomplete (backend %q, id %q)", r.Backend, r.ID)
	}
	return r, nil
}

// PublicKey parses the reference's public key.
func (r Ref) PublicKey() (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(r.Public)
	if err != nil {
		return nil, fmt.Errorf("keybackend: stored public key: %w", err)
	}
	return pub, nil
}

// Backend makes, opens and destroys keys that never leave it. All methods
// are safe for concurrent use.
type Backend interface {
	// Type returns PKCS11 or AWSKMS.
	Type() string
	// Check reports whether the backend can make keys for alg (rsaBits for
	// RSA); the error wraps ErrUnsupported and names the backend.
	Check(alg key.Algorithm, rsaBits int) error
	// Generate creates a non-exportable key labelled (or tagged) with kid.
	Generate(ctx context.Context, kid string, alg key.Algorithm, rsaBits int) (Ref, error)
	// Signer finds the object of ref and returns a signer whose every
	// signature is bounded by the sign timeout and whose errors wrap
	// ErrUnavailable. A missing object is ErrObjectMissing.
	Signer(ctx context.Context, ref Ref, alg key.Algorithm) (crypto.Signer, error)
	// Destroy deletes (PKCS#11) or schedules the deletion of (KMS) the
	// object of ref. An object already gone is not an error.
	Destroy(ctx context.Context, ref Ref) error
	// Close releases the backend; signers fail afterwards.
	Close() error
}

// Open connects to the configured backend. It returns nil, nil for the
// software backend.
func Open(ctx context.Context, c Config) (Backend, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.SignTimeout == 0 {
		c.SignTimeout = DefaultSignTimeout
	}
	switch c.Type {
	case PKCS11:
		return openPKCS11(c)
	case AWSKMS:
		return openAWSKMS(ctx, c)
	}
	return nil, nil
}

// SignFunc signs digest under ctx (which carries the sign timeout).
type SignFunc func(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error)

// TimedSigner returns the crypto.Signer every backend hands out: each
// Sign is one call of sign under a context that ends after timeout, and
// any failure wraps ErrUnavailable naming what (e.g. "pkcs11 key KID").
func TimedSigner(pub crypto.PublicKey, timeout time.Duration, what string, sign SignFunc) crypto.Signer {
	return &timedSigner{pub: pub, timeout: timeout, what: what, sign: sign}
}

// timedSigner is the crypto.Signer backends hand out: one backend call per
// signature, bounded by timeout, errors wrapped in ErrUnavailable.
type timedSigner struct {
	pub     crypto.PublicKey
	timeout time.Duration
	what    string // e.g. "pkcs11 key 4f2a..."
	sign    SignFunc
}

func (s *timedSigner) Public() crypto.PublicKey { return s.pub }

func (s *timedSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	sig, err := s.sign(ctx, digest, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s: no signature within %s", ErrUnavailable, s.what, s.timeout)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, s.what, err)
	}
	return sig, nil
}

// blocking runs a call that cannot be cancelled (a C function) and stops
// waiting for it when ctx is done; the call finishes on its own goroutine
// and its result is dropped.
func blocking(ctx context.Context, call func() ([]byte, error)) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := call()
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Supports reports whether a backend of type typ makes keys for alg
// (rsaBits for RSA). The error wraps ErrUnsupported and names the
// backend. The software backend makes every algorithm.
func Supports(typ string, alg key.Algorithm, rsaBits int) error {
	switch typ {
	case PKCS11:
		switch alg.Family() {
		case key.FamilyRSA, key.FamilyRSAPSS:
			if rsaBits != 2048 && rsaBits != 3072 && rsaBits != 4096 {
				return fmt.Errorf("%w: pkcs11 makes RSA keys of 2048, 3072 or 4096 bits, not %d", ErrUnsupported, rsaBits)
			}
			return nil
		case key.FamilyEC:
			return nil
		}
		return fmt.Errorf("%w: the pkcs11 backend cannot make %s keys (RS*, PS*, ES* only); choose another algorithm or keyBackend.type software", ErrUnsupported, alg)
	case AWSKMS:
		_, _, err := kmsSpec(alg, rsaBits)
		return err
	}
	return nil
}

// External reports whether keys are made outside the process (pkcs11,
// awskms), so that no protection secret is needed for new keys.
func (c Config) External() bool { return c.Type == PKCS11 || c.Type == AWSKMS }
