package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/signet-id/signet/userstore"
)

// Passwords (passwords) is the password policy of the users kept in the
// store (signet users): NIST SP 800-63B, a minimum length and a list of
// breached passwords, no composition rules; and the argon2id parameters
// of new hashes. Defaults applied.
type Passwords struct {
	// MinLength (minLength): at least this many characters; default 8.
	MinLength int
	// BreachedPasswordsFile (breachedPasswordsFile): a file of breached
	// passwords, one a line, as text or as SHA-1 hex (Have I Been Pwned
	// dumps); relative to the configuration's directory. Read when a
	// password is set (signet users), not by serve.
	BreachedPasswordsFile string
	// Argon2id (argon2id: { memory, iterations, parallelism }): the
	// parameters of new hashes; a store user's hash with other
	// parameters (or a bcrypt hash) is replaced at their next sign-in.
	Argon2id userstore.Argon2
}

type passwordsDoc struct {
	MinLength             *int         `yaml:"minLength"`
	BreachedPasswordsFile string       `yaml:"breachedPasswordsFile"`
	Argon2id              *argon2idDoc `yaml:"argon2id"`
}

type argon2idDoc struct {
	Memory      *ByteSize `yaml:"memory"`
	Iterations  *int      `yaml:"iterations"`
	Parallelism *int      `yaml:"parallelism"`
}

// resolvePasswords reads passwords, with its defaults.
func (p *parser) resolvePasswords(d *fileDoc, c *Config) error {
	c.Passwords = Passwords{MinLength: userstore.DefaultMinLength, Argon2id: userstore.DefaultArgon2()}
	pd := d.Passwords
	if pd == nil {
		return nil
	}
	if pd.MinLength != nil {
		if *pd.MinLength < userstore.DefaultMinLength || *pd.MinLength > 64 {
			return p.at("passwords.minLength", "must be from 8 (NIST SP 800-63B's least) to 64")
		}
		c.Passwords.MinLength = *pd.MinLength
	}
	c.Passwords.BreachedPasswordsFile = p.path(pd.BreachedPasswordsFile)
	if f := c.Passwords.BreachedPasswordsFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			// serve does not read it; signet users does, and refuses to
			// set passwords without it.
			c.Warnings = append(c.Warnings, fmt.Sprintf("passwords.breachedPasswordsFile %s cannot be read (%v): signet users will refuse to set passwords until it can", f, errors.Unwrap(err)))
		}
	}
	if a := pd.Argon2id; a != nil {
		if a.Memory != nil {
			kib := int64(*a.Memory) >> 10
			if kib < 8<<10 || kib > 4<<20 {
				return p.at("passwords.argon2id.memory", "must be from 8MiB to 4GiB, e.g. 64MiB (RFC 9106) or 19MiB (OWASP's least)")
			}
			c.Passwords.Argon2id.MemoryKiB = uint32(kib)
		}
		if a.Iterations != nil {
			if *a.Iterations < 1 || *a.Iterations > 64 {
				return p.at("passwords.argon2id.iterations", "must be from 1 to 64, e.g. 3")
			}
			c.Passwords.Argon2id.Iterations = uint32(*a.Iterations)
		}
		if a.Parallelism != nil {
			if *a.Parallelism < 1 || *a.Parallelism > 255 {
				return p.at("passwords.argon2id.parallelism", "must be from 1 to 255, e.g. 4")
			}
			c.Passwords.Argon2id.Parallelism = uint8(*a.Parallelism)
		}
	}
	if err := c.Passwords.Argon2id.Validate(); err != nil {
		return p.at("passwords.argon2id", "%v", err)
	}
	return nil
}
