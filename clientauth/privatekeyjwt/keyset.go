package privatekeyjwt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
)

// MaxKeys is the most keys a client's JWK Set may hold.
const MaxKeys = 32

// maxUntargeted is how many keys are tried for an assertion without kid.
const maxUntargeted = 4

// defaultAlgorithms are the assertion algorithms allowed unless a
// [Verifier] or a key set is given others ([DefaultAlgorithms]).
var defaultAlgorithms = []key.Algorithm{key.RS256, key.PS256, key.ES256, key.EdDSA}

// DefaultAlgorithms returns RS256, PS256, ES256 and EdDSA.
func DefaultAlgorithms() []key.Algorithm { return slices.Clone(defaultAlgorithms) }

// KeySet is a client's public keys.
type KeySet interface {
	// Keys returns the keys that may verify a signature made with alg and
	// the header's kid ("" when the header has none): the key with that
	// kid, or without a kid at most four keys fitting alg. It returns an
	// error wrapping ErrUnknownKey when none fits, or
	// ErrKeySetUnavailable when the keys cannot be had. Safe for
	// concurrent use.
	Keys(ctx context.Context, kid string, alg key.Algorithm) ([]jose.JSONWebKey, error)
}

// StaticKeySet is a key set given inline, e.g. clients[].jwks.
type StaticKeySet struct {
	keys []jose.JSONWebKey
}

// Keys implements [KeySet].
func (s *StaticKeySet) Keys(_ context.Context, kid string, alg key.Algorithm) ([]jose.JSONWebKey, error) {
	if out := selectKeys(s.keys, kid, alg); len(out) > 0 {
		return out, nil
	}
	return nil, noMatch(kid, alg, "the client's jwks")
}

// Len returns the number of signing keys in the set.
func (s *StaticKeySet) Len() int { return len(s.keys) }

// ParseKeySet parses and validates a JWK Set document ({"keys": [...]})
// of a client's public keys against algs (nil: [DefaultAlgorithms]):
//
//   - no key holds private material (ErrPrivateKey, naming the kid: publish
//     only the public key);
//   - kids are unique, and there are at most [MaxKeys] keys;
//   - a key's "use", if present, is "sig" or "enc"; "enc" keys are skipped;
//   - a signing key's "alg", if present, is in algs and fits the key type;
//     a key without "alg" fits at least one of algs.
//
// Errors wrap ErrInvalidKeySet.
func ParseKeySet(data []byte, algs []key.Algorithm) (*StaticKeySet, error) {
	keys, err := parseKeys(data, algs)
	if err != nil {
		return nil, err
	}
	return &StaticKeySet{keys: keys}, nil
}

func parseKeys(data []byte, algs []key.Algorithm) ([]jose.JSONWebKey, error) {
	if algs == nil {
		algs = defaultAlgorithms
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object {\"keys\": [...]}: %v", ErrInvalidKeySet, err)
	}
	if doc.Keys == nil {
		return nil, fmt.Errorf("%w: no \"keys\" array", ErrInvalidKeySet)
	}
	if len(doc.Keys) == 0 {
		return nil, fmt.Errorf("%w: \"keys\" is empty", ErrInvalidKeySet)
	}
	if len(doc.Keys) > MaxKeys {
		return nil, fmt.Errorf("%w: %d keys; at most %d are allowed", ErrInvalidKeySet, len(doc.Keys), MaxKeys)
	}
	var out []jose.JSONWebKey
	kids := make(map[string]bool)
	for i, raw := range doc.Keys {
		var head struct {
			KID string `json:"kid"`
			D   any    `json:"d"`
			K   any    `json:"k"`
		}
		name := fmt.Sprintf("keys[%d]", i)
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("%w: %s is not a JSON object: %v", ErrInvalidKeySet, name, err)
		}
		if head.KID != "" {
			name = fmt.Sprintf("key %q", head.KID)
		}
		if head.K != nil {
			return nil, fmt.Errorf("%w: %s holds private key material: it is a symmetric (oct) key; publish only the public key of an RSA, EC P-256 or Ed25519 key pair", ErrPrivateKey, name)
		}
		if head.D != nil {
			return nil, fmt.Errorf("%w: %s holds private key material; publish only the public key (remove \"d\", and for RSA \"p\", \"q\", \"dp\", \"dq\" and \"qi\")", ErrPrivateKey, name)
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidKeySet, name, err)
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("%w: %s is not a public key; publish only the public key", ErrPrivateKey, name)
		}
		if k.KeyID != "" {
			if kids[k.KeyID] {
				return nil, fmt.Errorf("%w: kid %q is used twice; kids must be unique", ErrInvalidKeySet, k.KeyID)
			}
			kids[k.KeyID] = true
		}
		switch k.Use {
		case "", "sig":
		case "enc":
			continue // an encryption key never verifies an assertion
		default:
			return nil, fmt.Errorf("%w: %s has use %q; use \"sig\" (or omit it)", ErrInvalidKeySet, name, k.Use)
		}
		if k.Algorithm != "" {
			alg := key.Algorithm(k.Algorithm)
			if !slices.Contains(algs, alg) {
				return nil, fmt.Errorf("%w: %s has alg %q; allowed: %s", ErrInvalidKeySet, name, k.Algorithm, algList(algs))
			}
			if err := jwk.CheckAlgorithm(alg, k.Key); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalidKeySet, name, err)
			}
		} else if !slices.ContainsFunc(algs, func(a key.Algorithm) bool { return jwk.CheckAlgorithm(a, k.Key) == nil }) {
			return nil, fmt.Errorf("%w: %s fits none of the allowed algorithms %s (RSA keys need at least 2048 bits, ES256 a P-256 key, EdDSA an Ed25519 key)", ErrInvalidKeySet, name, algList(algs))
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no signing key (every key has \"use\": \"enc\")", ErrInvalidKeySet)
	}
	return out, nil
}

// selectKeys returns the keys that may verify a signature by alg with kid.
func selectKeys(keys []jose.JSONWebKey, kid string, alg key.Algorithm) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != string(alg) {
			continue
		}
		if jwk.CheckAlgorithm(alg, k.Key) != nil {
			continue
		}
		out = append(out, k)
		if kid == "" && len(out) == maxUntargeted {
			break
		}
	}
	return out
}

func noMatch(kid string, alg key.Algorithm, where string) error {
	if kid != "" {
		return fmt.Errorf("%w: kid %q with alg %s is not in %s", ErrUnknownKey, kid, alg, where)
	}
	return fmt.Errorf("%w: the assertion has no kid and no key in %s fits alg %s", ErrUnknownKey, where, alg)
}

func algList(algs []key.Algorithm) string {
	b := make([]byte, 0, 8*len(algs))
	for i, a := range algs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, a...)
	}
	return string(b)
}
