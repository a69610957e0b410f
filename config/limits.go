package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/throttle"
)

// Limits (limits) are the abuse budgets of the unauthenticated endpoints;
// see docs/security.md. Every field has its default applied.
// TrackedKeys is not used with storage.driver postgres (instances count
// in a shared table).
type Limits = throttle.Budgets

// Defaults of limits.
const (
	DefaultPasswordHashingMemory = throttle.DefaultHashingMemoryKiB
	DefaultPasswordHashingQueue  = throttle.DefaultHashingQueue
	DefaultTrackedKeys           = throttle.DefaultTrackedKeys
	DefaultLimitWindow           = throttle.DefaultWindow
	minPasswordHashingMemoryKiB  = 8 << 10
)

// DefaultLimits returns the default budgets (docs/security.md).
func DefaultLimits() Limits { return throttle.DefaultBudgets() }

type limitsDoc struct {
	PasswordHashingMemory *ByteSize              `yaml:"passwordHashingMemory"`
	PasswordHashingQueue  *int                   `yaml:"passwordHashingQueue"`
	TrackedKeys           *int                   `yaml:"trackedKeys"`
	Login                 *loginLimitsDoc        `yaml:"login"`
	ClientAuthentication  *clientLimitsDoc       `yaml:"clientAuthentication"`
	Registration          *registrationLimitsDoc `yaml:"registration"`
}

// registrationLimitsDoc is limits.registration: dynamic client
// registrations (every attempt counts).
type registrationLimitsDoc struct {
	PerAddress *limitDoc `yaml:"perAddress"`
	Total      *limitDoc `yaml:"total"`
}

type loginLimitsDoc struct {
	PerUserAndAddress *limitDoc `yaml:"perUserAndAddress"`
	PerAddress        *limitDoc `yaml:"perAddress"`
	PerUser           *limitDoc `yaml:"perUser"`
}

type clientLimitsDoc struct {
	PerClientAndAddress *limitDoc `yaml:"perClientAndAddress"`
	PerAddress          *limitDoc `yaml:"perAddress"`
	PerClient           *limitDoc `yaml:"perClient"`
}

type limitDoc struct {
	Max    *int      `yaml:"max"`
	Window *Duration `yaml:"window"`
}

// ByteSize is an amount of memory written with a unit: 128MiB, 1GiB,
// 65536KiB (KiB, MiB and GiB; KB, MB and GB are read as the same powers
// of two).
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("line %d: expected an amount of memory like 128MiB or 1GiB", n.Line)
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses "128MiB", "1GiB", "65536KiB" into bytes.
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"KB", 10}, {"MB", 20}, {"GB", 30}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 || n > 1<<(62-u.shift) {
				break
			}
			return n << u.shift, nil
		}
	}
	return 0, fmt.Errorf("invalid amount of memory %q: write a whole number with KiB, MiB or GiB, e.g. 128MiB", s)
}

// resolveLimits checks limits and applies the defaults.
func (p *parser) resolveLimits(d *fileDoc, c *Config) error {
	c.Limits = DefaultLimits()
	ld := d.Limits
	if ld == nil {
		return nil
	}
	if ld.PasswordHashingMemory != nil {
		kib := int64(*ld.PasswordHashingMemory) >> 10
		if kib < minPasswordHashingMemoryKiB {
			return p.at("limits.passwordHashingMemory", "must be at least 8MiB (the default, 128MiB, lets two argon2id hashes with the default 64 MiB run at once)")
		}
		c.Limits.PasswordHashingMemoryKiB = kib
	}
	if ld.PasswordHashingQueue != nil {
		if *ld.PasswordHashingQueue < 1 {
			return p.at("limits.passwordHashingQueue", "must be at least 1: how many password checks may wait for hashing memory (default %d)", DefaultPasswordHashingQueue)
		}
		c.Limits.PasswordHashingQueue = *ld.PasswordHashingQueue
	}
	if ld.TrackedKeys != nil {
		if *ld.TrackedKeys < 1000 {
			return p.at("limits.trackedKeys", "must be at least 1000: how many usernames, clients and addresses the in-memory limiter tracks at once (default %d)", DefaultTrackedKeys)
		}
		c.Limits.TrackedKeys = *ld.TrackedKeys
	}
	set := func(path string, doc *limitDoc, dst *throttle.Limit) error {
		if doc == nil {
			return nil
		}
		if doc.Max != nil {
			if *doc.Max < 1 {
				return p.at(path+".max", "must be at least 1: failed attempts allowed per window")
			}
			dst.Max = *doc.Max
		}
		if doc.Window != nil {
			if time.Duration(*doc.Window) < time.Second {
				return p.at(path+".window", "must be at least 1s, e.g. 15m")
			}
			dst.Window = time.Duration(*doc.Window)
		}
		return nil
	}
	var login loginLimitsDoc
	var client clientLimitsDoc
	if ld.Login != nil {
		login = *ld.Login
	}
	if ld.ClientAuthentication != nil {
		client = *ld.ClientAuthentication
	}
	var reg registrationLimitsDoc
	if ld.Registration != nil {
		reg = *ld.Registration
	}
	for _, f := range []struct {
		path string
		doc  *limitDoc
		dst  *throttle.Limit
	}{
		{"limits.login.perUserAndAddress", login.PerUserAndAddress, &c.Limits.LoginPerUserAndAddress},
		{"limits.login.perAddress", login.PerAddress, &c.Limits.LoginPerAddress},
		{"limits.login.perUser", login.PerUser, &c.Limits.LoginPerUser},
		{"limits.clientAuthentication.perClientAndAddress", client.PerClientAndAddress, &c.Limits.ClientPerClientAndAddress},
		{"limits.clientAuthentication.perAddress", client.PerAddress, &c.Limits.ClientPerAddress},
		{"limits.clientAuthentication.perClient", client.PerClient, &c.Limits.ClientPerClient},
		{"limits.registration.perAddress", reg.PerAddress, &c.Limits.RegistrationPerAddress},
		{"limits.registration.total", reg.Total, &c.Limits.Registrations},
	} {
		if err := set(f.path, f.doc, f.dst); err != nil {
			return err
		}
	}
	return nil
}

// warnHashingMemory warns about secrets whose argon2id memory exceeds the
// hashing budget: each of their checks runs alone.
func (c *Config) warnHashingMemory() {
	check := func(what string, secrets []*clientauth.Secret) {
		for _, s := range secrets {
			if int64(s.MemoryKiB()) > c.Limits.PasswordHashingMemoryKiB {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s: its argon2id hash needs %d MiB, more than limits.passwordHashingMemory (%d MiB): each check of it runs alone, with no other password check beside it; raise limits.passwordHashingMemory or rehash with less memory",
					what, s.MemoryKiB()>>10, c.Limits.PasswordHashingMemoryKiB>>10))
			}
		}
	}
	for _, cl := range c.Clients {
		check("client "+cl.ClientID, cl.Secrets)
	}
	for _, r := range c.APIResources {
		check("API resource "+r.Name, r.Secrets)
	}
	for _, u := range c.Users {
		check("user "+u.Username, []*clientauth.Secret{u.Password})
	}
}
