package key

import (
	"fmt"
	"time"
)

// Day is 24 hours, the unit the reference's defaults are written in.
const Day = 24 * time.Hour

// Defaults of the reference (Duende IdentityServer's KeyManagementOptions).
const (
	DefaultRotationInterval  = 90 * Day
	DefaultPropagationTime   = 14 * Day
	DefaultRetentionDuration = 14 * Day
	DefaultKeyCacheDuration  = 24 * time.Hour
	DefaultRSAKeySize        = 2048
)

// AlgorithmOptions configures one managed key series.
type AlgorithmOptions struct {
	// Algorithm signs the series' tokens.
	Algorithm Algorithm
	// X509 wraps each key of the series in a self-signed certificate, so
	// that its JWK carries x5c, x5t and x5t#S256.
	X509 bool
}

// Options are the key management options, with the reference's names.
// Start from [DefaultOptions]: the zero value is not valid (booleans whose
// default is true would be false).
type Options struct {
	// Enabled turns managed keys on.
	Enabled bool
	// RotationInterval is a key's age when it stops signing.
	RotationInterval time.Duration
	// PropagationTime is how long a new key is announced before it signs.
	PropagationTime time.Duration
	// RetentionDuration is how long a retired key stays published.
	RetentionDuration time.Duration
	// DeleteRetiredKeys deletes keys from the store once past retention;
	// when false they are kept, unpublished.
	DeleteRetiredKeys bool
	// SigningAlgorithms lists the managed series; the first is the default.
	SigningAlgorithms []AlgorithmOptions
	// RSAKeySize is the modulus size in bits of new RSA keys.
	RSAKeySize int
	// ProtectKeys encrypts private keys at rest.
	ProtectKeys bool
	// KeyCacheDuration bounds how long an instance may serve keys it has not
	// reloaded from the store. Zero means the default: 24h or
	// PropagationTime/2, whichever is smaller. An explicit value above
	// PropagationTime/2 is rejected, never capped.
	KeyCacheDuration time.Duration
}

// DefaultOptions returns the reference's defaults.
func DefaultOptions() Options {
	return Options{
		Enabled:           true,
		RotationInterval:  DefaultRotationInterval,
		PropagationTime:   DefaultPropagationTime,
		RetentionDuration: DefaultRetentionDuration,
		DeleteRetiredKeys: true,
		SigningAlgorithms: []AlgorithmOptions{{Algorithm: RS256}},
		RSAKeySize:        DefaultRSAKeySize,
		ProtectKeys:       true,
	}
}

// EffectiveKeyCacheDuration returns KeyCacheDuration, or its default when
// zero: 24h or PropagationTime/2, whichever is smaller.
func (o Options) EffectiveKeyCacheDuration() time.Duration {
	if o.KeyCacheDuration > 0 {
		return o.KeyCacheDuration
	}
	return min(DefaultKeyCacheDuration, o.PropagationTime/2)
}

// Algorithms returns the configured algorithms in order.
func (o Options) Algorithms() []Algorithm {
	out := make([]Algorithm, len(o.SigningAlgorithms))
	for i, a := range o.SigningAlgorithms {
		out[i] = a.Algorithm
	}
	return out
}

// X509For reports whether the series of alg is X.509-wrapped.
func (o Options) X509For(alg Algorithm) bool {
	for _, a := range o.SigningAlgorithms {
		if a.Algorithm == alg {
			return a.X509
		}
	}
	return false
}

// Validate checks every rule and returns the first broken one, naming the
// option and the rule. The error wraps [ErrInvalidOptions] (and
// [ErrUnknownAlgorithm] for an unknown algorithm).
func (o Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"rotationInterval", o.RotationInterval},
		{"propagationTime", o.PropagationTime},
		{"retentionDuration", o.RetentionDuration},
	} {
		if d.v <= 0 {
			return bad("%s is %s; it must be a positive duration", d.name, d.v)
		}
	}
	if o.RotationInterval <= o.PropagationTime {
		return bad("rotationInterval (%s) must be greater than propagationTime (%s): a key must sign for a while after it is announced", o.RotationInterval, o.PropagationTime)
	}
	if o.KeyCacheDuration < 0 {
		return bad("keyCacheDuration is %s; it must be positive, or omitted for the default", o.KeyCacheDuration)
	}
	if o.KeyCacheDuration > o.PropagationTime/2 {
		return bad("keyCacheDuration (%s) must be at most propagationTime/2 (%s), so every instance sees a new key well before it signs; lower keyCacheDuration or raise propagationTime", o.KeyCacheDuration, o.PropagationTime/2)
	}
	if o.Enabled && len(o.SigningAlgorithms) == 0 {
		return bad("signingAlgorithms is empty; list at least one algorithm (allowed: %s)", algorithmList())
	}
	seen := make(map[Algorithm]bool, len(o.SigningAlgorithms))
	for i, a := range o.SigningAlgorithms {
		if !a.Algorithm.Valid() {
			return fmt.Errorf("%w: signingAlgorithms[%d]: %w %q: allowed values are %s", ErrInvalidOptions, i, ErrUnknownAlgorithm, a.Algorithm, algorithmList())
		}
		if seen[a.Algorithm] {
			return bad("signingAlgorithms lists %s twice; each algorithm may appear once", a.Algorithm)
		}
		seen[a.Algorithm] = true
	}
	if seen[RS256] || seen[RS384] || seen[RS512] || seen[PS256] || seen[PS384] || seen[PS512] {
		if o.RSAKeySize < 2048 || o.RSAKeySize > 8192 || o.RSAKeySize%8 != 0 {
			return bad("rsaKeySize is %d; it must be a multiple of 8 from 2048 to 8192 (2048, 3072 and 4096 are usual)", o.RSAKeySize)
		}
	}
	return nil
}
