package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/signet-id/signet/key"
)

// Sentinel errors.
var (
	// ErrUnknownSecret: the key was sealed under a secret that is not in
	// the list (the secret changed, or differs between instances).
	ErrUnknownSecret = errors.New("seal: sealed under a secret that is not configured")
	// ErrAuthentication: the secret matches but the data does not
	// authenticate (corrupted, or moved to another kid or algorithm).
	ErrAuthentication = errors.New("seal: sealed data does not authenticate")
	// ErrMalformed: the bytes are not a sealed key.
	ErrMalformed = errors.New("seal: malformed sealed data")
	// ErrWeakSecret: a secret is too short.
	ErrWeakSecret = errors.New("seal: secret too short")
)

// MinSecretLength is the shortest secret accepted, in bytes. Secrets
// should be random (32 bytes from a generator); this only stops mistakes
// like an empty environment variable.
const MinSecretLength = 16

const (
	version  = 1
	idLen    = 8
	nonceLen = 12
	tagLen   = 16 // AES-GCM authentication tag
	header   = 1 + idLen + nonceLen
)

type secretKey struct {
	id   [idLen]byte
	aead cipher.AEAD
}

// Sealer seals and opens private keys. It is immutable and safe for
// concurrent use.
type Sealer struct {
	keys []secretKey
}

// New returns a Sealer for an ordered list of secrets; the first seals.
func New(secrets [][]byte) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secret given; configure keyManagement.protection.secrets", ErrWeakSecret)
	}
	s := &Sealer{}
	for i, sec := range secrets {
		if len(sec) < MinSecretLength {
			return nil, fmt.Errorf("%w: secret %d is %d bytes, at least %d are required (use 32 random bytes, e.g. `openssl rand -base64 32 | tr '+/' '-_' | tr -d =`)", ErrWeakSecret, i+1, len(sec), MinSecretLength)
		}
		k, err := hkdf.Key(sha256.New, sec, []byte("signet/seal/v1"), "aes-256-gcm key", 32)
		if err != nil {
			return nil, fmt.Errorf("seal: derive key: %w", err)
		}
		id, err := hkdf.Key(sha256.New, sec, []byte("signet/seal/v1"), "secret id", idLen)
		if err != nil {
			return nil, fmt.Errorf("seal: derive id: %w", err)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		var sk secretKey
		copy(sk.id[:], id)
		sk.aead = aead
		s.keys = append(s.keys, sk)
	}
	return s, nil
}

func additionalData(kid string, alg key.Algorithm) []byte {
	return []byte("signet key\x00" + kid + "\x00" + string(alg))
}

// Seal encrypts plaintext for the record (kid, alg) under the first secret.
func (s *Sealer) Seal(kid string, alg key.Algorithm, plaintext []byte) ([]byte, error) {
	k := s.keys[0]
	out := make([]byte, header, header+len(plaintext)+k.aead.Overhead())
	out[0] = version
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+idLen : header]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return k.aead.Seal(out, out[1+idLen:header], plaintext, additionalData(kid, alg)), nil
}

// Open decrypts sealed data of the record (kid, alg) with whichever
// configured secret sealed it.
func (s *Sealer) Open(kid string, alg key.Algorithm, sealed []byte) ([]byte, error) {
	// Anything shorter than a header and a tag (the sealing of an empty
	// plaintext) cannot be a sealed key, whatever secret id it claims.
	if len(sealed) < header+tagLen || sealed[0] != version {
		return nil, fmt.Errorf("%w (kid %s)", ErrMalformed, kid)
	}
	id := sealed[1 : 1+idLen]
	for _, k := range s.keys {
		if !bytes.Equal(k.id[:], id) {
			continue
		}
		pt, err := k.aead.Open(nil, sealed[1+idLen:header], sealed[header:], additionalData(kid, alg))
		if err != nil {
			return nil, fmt.Errorf("%w (kid %s)", ErrAuthentication, kid)
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w: kid %s needs secret id %s; the protection secret was changed or differs between instances — list the old secret after the new one", ErrUnknownSecret, kid, hex.EncodeToString(id))
}

// SealedWithFirst reports whether sealed data is already sealed under the
// first secret (re-sealing it would change nothing).
func (s *Sealer) SealedWithFirst(sealed []byte) bool {
	return len(sealed) >= header && sealed[0] == version && bytes.Equal(sealed[1:1+idLen], s.keys[0].id[:])
}
