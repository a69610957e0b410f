package userstore

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/signet-id/signet/clientauth"
)

// Defaults of the password policy.
const (
	DefaultMinLength = 8 // NIST SP 800-63B 5.1.1.2
	// MaxLength bounds a password (in bytes): long enough for any
	// passphrase (800-63B asks for at least 64 characters).
	MaxLength = 1024
)

// Errors of the password policy.
var (
	// ErrWeakPassword: the password is too short, too long, or on the
	// breached-password list.
	ErrWeakPassword = errors.New("userstore: the password does not meet the password policy")
)

// Argon2 are the argon2id parameters of new password hashes.
type Argon2 struct {
	MemoryKiB   uint32 // m, in KiB
	Iterations  uint32 // t
	Parallelism uint8  // p
}

// DefaultArgon2 are clientauth's (RFC 9106's second option: 64 MiB, 3
// passes, 4 lanes), as `signet hash-password` uses.
func DefaultArgon2() Argon2 {
	return Argon2{MemoryKiB: clientauth.DefaultArgonMemory, Iterations: clientauth.DefaultArgonTime, Parallelism: clientauth.DefaultArgonThreads}
}

// prefix is the PHC string of a hash with these parameters up to the salt.
func (a Argon2) prefix() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, a.MemoryKiB, a.Iterations, a.Parallelism)
}

// Validate checks the parameters against clientauth's bounds.
func (a Argon2) Validate() error {
	_, err := clientauth.ParseSecret(a.prefix() + "c2FsdHNhbHQ$" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		return fmt.Errorf("argon2id parameters m=%d KiB, t=%d, p=%d: %w", a.MemoryKiB, a.Iterations, a.Parallelism, err)
	}
	return nil
}

// Policy is the password policy.
type Policy struct {
	// MinLength is the least number of characters; 0 means
	// DefaultMinLength.
	MinLength int
	// Breached refuses known passwords; nil refuses none.
	Breached *Breached
	// Argon2 are the parameters of new hashes; zero means DefaultArgon2.
	Argon2 Argon2
	// Rand is the salt's randomness; nil means crypto/rand.
	Rand io.Reader
}

func (p *Policy) argon() Argon2 {
	if p == nil || p.Argon2 == (Argon2{}) {
		return DefaultArgon2()
	}
	return p.Argon2
}

// Check applies the policy to a new password: at least MinLength
// characters, at most MaxLength bytes, not on the breached list. Nothing
// else: no composition rules (NIST SP 800-63B 5.1.1.2). Errors wrap
// ErrWeakPassword and never contain the password.
func (p *Policy) Check(password string) error {
	minLen := DefaultMinLength
	if p != nil && p.MinLength > 0 {
		minLen = p.MinLength
	}
	switch n := utf8.RuneCountInString(password); {
	case n < minLen:
		return fmt.Errorf("%w: it has %d characters; use at least %d (a passphrase of a few words is easy to remember)", ErrWeakPassword, n, minLen)
	case len(password) > MaxLength:
		return fmt.Errorf("%w: it is longer than %d bytes", ErrWeakPassword, MaxLength)
	}
	if p != nil && p.Breached.Contains(password) {
		return fmt.Errorf("%w: it appears in the list of breached passwords (passwords.breachedPasswordsFile); choose another", ErrWeakPassword)
	}
	return nil
}

// Hash returns the argon2id PHC string of password with the policy's
// parameters and a 16-byte random salt. It does not apply Check.
func (p *Policy) Hash(password string) (string, error) {
	a := p.argon()
	var rnd io.Reader = rand.Reader
	if p != nil && p.Rand != nil {
		rnd = p.Rand
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", fmt.Errorf("userstore: salt: %w", err)
	}
	h := argon2.IDKey([]byte(password), salt, a.Iterations, a.MemoryKiB, a.Parallelism, 32)
	return a.prefix() + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(h), nil
}

// Current reports whether hash is an argon2id hash with the policy's
// parameters; otherwise the next successful sign-in replaces it.
func (p *Policy) Current(hash string) bool {
	return strings.HasPrefix(hash, p.argon().prefix())
}

// Breached is a set of breached passwords, kept as SHA-1 digests.
type Breached struct {
	set map[[sha1.Size]byte]struct{}
}

// Len returns how many passwords the list holds.
func (b *Breached) Len() int {
	if b == nil {
		return 0
	}
	return len(b.set)
}

// Contains reports whether password is on the list.
func (b *Breached) Contains(password string) bool {
	if b == nil {
		return false
	}
	_, ok := b.set[sha1.Sum([]byte(password))]
	return ok
}

// ReadBreached reads a breached-password list: one entry a line, either
// a password as it is, or the SHA-1 of one as 40 hexadecimal digits
// (either case) optionally followed by ":count", as in the Have I Been
// Pwned dumps. A line of exactly 40 hex digits is therefore read as a
// digest. Empty lines are skipped; a trailing \r is dropped.
func ReadBreached(r io.Reader) (*Breached, error) {
	b := &Breached{set: make(map[[sha1.Size]byte]struct{})}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLength+64)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSuffix(sc.Text(), "\r")
		if s == "" {
			continue
		}
		if d, ok := sha1Line(s); ok {
			b.set[d] = struct{}{}
			continue
		}
		b.set[sha1.Sum([]byte(s))] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return b, nil
}

// sha1Line parses "<40 hex>" or "<40 hex>:<count>".
func sha1Line(s string) ([sha1.Size]byte, bool) {
	var d [sha1.Size]byte
	h, count, hasCount := strings.Cut(s, ":")
	if len(h) != 2*sha1.Size {
		return d, false
	}
	if hasCount && (count == "" || strings.Trim(count, "0123456789") != "") {
		return d, false
	}
	if _, err := hex.Decode(d[:], []byte(h)); err != nil {
		return d, false
	}
	return d, true
}

// LoadBreached reads the breached-password list at path (ReadBreached).
func LoadBreached(path string) (*Breached, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("passwords.breachedPasswordsFile: %w", err)
	}
	defer f.Close()
	b, err := ReadBreached(f)
	if err != nil {
		return nil, fmt.Errorf("passwords.breachedPasswordsFile %s: %w", path, err)
	}
	return b, nil
}

// hashKind is a stored hash's algorithm.
type hashKind int

const (
	hashArgon2id hashKind = iota + 1
	hashBcrypt
)

// parsedHash is a stored hash ready to verify.
type parsedHash struct {
	kind   hashKind
	argon  *clientauth.Secret
	bcrypt []byte
}

// parseHash parses a stored or imported hash: an argon2id PHC string or a
// bcrypt hash ($2a$, $2b$, $2y$).
func parseHash(h string) (parsedHash, error) {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		s, err := clientauth.ParseSecret(h)
		if err != nil {
			return parsedHash{}, err
		}
		return parsedHash{kind: hashArgon2id, argon: s}, nil
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if _, err := bcrypt.Cost([]byte(h)); err != nil {
			return parsedHash{}, fmt.Errorf("not a valid bcrypt hash: %w", err)
		}
		return parsedHash{kind: hashBcrypt, bcrypt: []byte(h)}, nil
	}
	return parsedHash{}, errors.New("the password hash must be an argon2id PHC string ($argon2id$v=19$...) or a bcrypt hash ($2a$, $2b$ or $2y$)")
}

// ValidateHash checks an imported hash (argon2id or bcrypt).
func ValidateHash(h string) error {
	_, err := parseHash(h)
	return err
}
