package clientauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// ErrInvalidSecret: a configured secret is not in a supported format.
var ErrInvalidSecret = errors.New("clientauth: invalid client secret")

// Kind names a secret format.
type Kind string

// Secret formats.
const (
	KindSHA256   Kind = "sha256"
	KindArgon2id Kind = "argon2id"
	KindPlain    Kind = "plain"
)

// Argon2id parameter bounds accepted in configured PHC strings. They stop a
// typo from making every verification take minutes or gigabytes.
const (
	maxArgonMemoryKiB = 4 << 20 // 4 GiB
	maxArgonTime      = 64
	minArgonSaltLen   = 8
	minArgonKeyLen    = 16
	maxArgonKeyLen    = 128
)

// Default argon2id parameters of [HashArgon2id]: RFC 9106's second
// recommended option (64 MiB, 3 passes, 4 lanes).
const (
	DefaultArgonTime    = 3
	DefaultArgonMemory  = 64 * 1024
	DefaultArgonThreads = 4
)

// Secret is one configured client secret. It is safe for concurrent use.
type Secret struct {
	kind   Kind
	digest [sha256.Size]byte // KindSHA256, KindPlain: SHA-256 of the secret

	// KindArgon2id
	salt    []byte
	hash    []byte
	time    uint32
	memory  uint32
	threads uint8
	// verified holds the SHA-256 of the last secret that passed argon2id,
	// so later verifications of the same secret take the fast path.
	verified atomic.Pointer[[sha256.Size]byte]
}

// ParseSecret parses a configured secret. Errors wrap [ErrInvalidSecret]
// and never contain the secret.
func ParseSecret(s string) (*Secret, error) {
	switch {
	case strings.HasPrefix(s, "sha256:"):
		h := s[len("sha256:"):]
		if len(h) != 2*sha256.Size {
			return nil, fmt.Errorf("%w: a sha256: secret needs 64 hex digits after the prefix, got %d characters; create one with `signet hash-secret`", ErrInvalidSecret, len(h))
		}
		sec := &Secret{kind: KindSHA256}
		if _, err := hex.Decode(sec.digest[:], []byte(h)); err != nil {
			return nil, fmt.Errorf("%w: a sha256: secret must be hex after the prefix; create one with `signet hash-secret`", ErrInvalidSecret)
		}
		return sec, nil
	case strings.HasPrefix(s, "plain:"):
		p := s[len("plain:"):]
		if p == "" {
			return nil, fmt.Errorf("%w: plain: secret is empty", ErrInvalidSecret)
		}
		return &Secret{kind: KindPlain, digest: sha256.Sum256([]byte(p))}, nil
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2id(s)
	case strings.HasPrefix(s, "$argon2"):
		return nil, fmt.Errorf("%w: only argon2id PHC strings are supported (not argon2i or argon2d)", ErrInvalidSecret)
	}
	return nil, fmt.Errorf("%w: expected sha256:<hex>, an argon2id PHC string ($argon2id$...) or plain:<secret>; hash a secret with `signet hash-secret`", ErrInvalidSecret)
}

// parseArgon2id parses $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>.
func parseArgon2id(s string) (*Secret, error) {
	bad := func(why string) (*Secret, error) {
		return nil, fmt.Errorf("%w: argon2id PHC string: %s (want $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>, base64 without padding)", ErrInvalidSecret, why)
	}
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 {
		return bad("wrong number of $-separated fields")
	}
	if parts[2] != "v=19" {
		return bad("version must be v=19")
	}
	sec := &Secret{kind: KindArgon2id}
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return bad("malformed parameter " + strconv.Quote(kv))
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil {
			return bad("parameter " + name + " is not a number")
		}
		switch name {
		case "m":
			if seen[0] || n < 8 || n > maxArgonMemoryKiB {
				return bad("m must appear once, from 8 to " + strconv.Itoa(maxArgonMemoryKiB) + " KiB")
			}
			seen[0], sec.memory = true, uint32(n)
		case "t":
			if seen[1] || n < 1 || n > maxArgonTime {
				return bad("t must appear once, from 1 to " + strconv.Itoa(maxArgonTime))
			}
			seen[1], sec.time = true, uint32(n)
		case "p":
			if seen[2] || n < 1 || n > 255 {
				return bad("p must appear once, from 1 to 255")
			}
			seen[2], sec.threads = true, uint8(n)
		default:
			return bad("unknown parameter " + strconv.Quote(name))
		}
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return bad("m, t and p are all required")
	}
	var err error
	if sec.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(sec.salt) < minArgonSaltLen {
		return bad("salt must be base64 of at least 8 bytes")
	}
	if sec.hash, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(sec.hash) < minArgonKeyLen || len(sec.hash) > maxArgonKeyLen {
		return bad("hash must be base64 of 16 to 128 bytes")
	}
	return sec, nil
}

// Kind returns the secret's format.
func (s *Secret) Kind() Kind { return s.kind }

// Verify reports whether presented matches the secret, in constant time
// with respect to the configured secret. It runs argon2id without a
// budget: it is for tools and tests; a server verifies with [Check].
func (s *Secret) Verify(presented string) bool {
	ok, _ := s.check(context.Background(), nil, presented, digest(presented))
	return ok
}

// quick reports whether presented (whose digest is d) matches without
// running argon2id: a fast secret, or an argon2id secret that accepted it
// before.
func (s *Secret) quick(d *[sha256.Size]byte) bool {
	switch s.kind {
	case KindSHA256, KindPlain:
		return subtle.ConstantTimeCompare(d[:], s.digest[:]) == 1
	case KindArgon2id:
		v := s.verified.Load()
		return v != nil && subtle.ConstantTimeCompare(d[:], v[:]) == 1
	}
	return false
}

// check verifies presented, running argon2id under b (nil: unbounded).
func (s *Secret) check(ctx context.Context, b Budget, presented string, d [sha256.Size]byte) (bool, error) {
	if s.quick(&d) || s.kind != KindArgon2id {
		return s.quick(&d), nil
	}
	if b != nil {
		release, err := b.Acquire(ctx, uint64(s.memory))
		if err != nil {
			return false, err
		}
		defer release()
	}
	got := argon2.IDKey([]byte(presented), s.salt, s.time, s.memory, s.threads, uint32(len(s.hash)))
	if subtle.ConstantTimeCompare(got, s.hash) != 1 {
		return false, nil
	}
	v := d
	s.verified.Store(&v)
	return true, nil
}

// digest returns the SHA-256 of s without allocating for secrets up to
// 128 bytes (a []byte conversion of more than 32 bytes would).
func digest(s string) [sha256.Size]byte {
	var buf [128]byte
	if len(s) > len(buf) {
		return sha256.Sum256([]byte(s))
	}
	return sha256.Sum256(append(buf[:0], s...))
}

// Budget bounds the memory of the argon2id verifications in flight;
// *throttle.Hashing implements it. Acquire takes kib KiB (waiting for
// them) and returns the function that gives them back; it fails when ctx
// ends or the budget's queue is full.
type Budget interface {
	Acquire(ctx context.Context, kib uint64) (release func(), err error)
}

// Quick reports whether presented matches one of secrets without running
// argon2id: a sha256 or plain secret, or an argon2id secret that accepted
// this very secret before. Every fast secret is compared.
func Quick(secrets []*Secret, presented string) bool {
	d := digest(presented)
	ok := false
	for _, s := range secrets {
		if s.quick(&d) {
			ok = true
		}
	}
	return ok
}

// Check reports whether presented matches one of secrets. Fast secrets
// are compared first; argon2id secrets are then tried in turn, each hash
// under b's memory budget. The error is b's (the caller's context ended,
// or the budget's queue is full): nothing was decided.
func Check(ctx context.Context, b Budget, secrets []*Secret, presented string) (bool, error) {
	if Quick(secrets, presented) {
		return true, nil
	}
	d := digest(presented)
	for _, s := range secrets {
		if s.kind != KindArgon2id {
			continue
		}
		ok, err := s.check(ctx, b, presented, d)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// VerifyAny reports whether presented matches any of secrets, without a
// hashing budget: for tools and tests (a server uses [Check]).
func VerifyAny(secrets []*Secret, presented string) bool {
	ok, _ := Check(context.Background(), nil, secrets, presented)
	return ok
}

// HashSHA256 returns the sha256: form of a secret.
func HashSHA256(secret string) string {
	d := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(d[:])
}

// HashArgon2id returns an argon2id PHC string for a secret with the default
// parameters and a 16-byte salt from rnd (crypto/rand when nil).
func HashArgon2id(secret string, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", fmt.Errorf("clientauth: salt: %w", err)
	}
	h := argon2.IDKey([]byte(secret), salt, DefaultArgonTime, DefaultArgonMemory, DefaultArgonThreads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, DefaultArgonMemory, DefaultArgonTime, DefaultArgonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h)), nil
}

// GenerateSecret returns a random secret of 32 bytes, base64url-encoded,
// read from rnd (crypto/rand when nil).
func GenerateSecret(rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("clientauth: generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
