package key

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Defaults for what an issuer cannot know about its relying parties.
const (
	// DefaultRelyingPartyCache is the longest JWKS cache of common client
	// libraries (Duende IdentityModel's DiscoveryCache: 24 h).
	DefaultRelyingPartyCache = 24 * time.Hour
	// DefaultClockSkew is the validation skew .NET allows by default.
	DefaultClockSkew = 5 * time.Minute
	// DefaultJWKSMaxAge is the longest default Cache-Control max-age of
	// the JWKS: the default is this or propagationTime/2, whichever is
	// smaller.
	DefaultJWKSMaxAge = time.Hour
)

// TimingOptions are the key options together with what decides how long
// a published key lives outside the issuer: the JWKS max-age, the
// relying parties' cache and clock skew, and the longest token a key
// signs. [TimingOptions.Validate] enforces the rules `signet config
// check` and `signet serve` enforce; Signet's configuration builds one of
// these, so there is one implementation.
type TimingOptions struct {
	Options
	// JWKSMaxAge is the Cache-Control max-age of the published JWKS; a
	// value above propagationTime/2 is rejected, never capped. Resolve a
	// default with [Options.EffectiveJWKSMaxAge].
	JWKSMaxAge time.Duration
	// RelyingPartyCache is the longest time a relying party caches the
	// JWKS ([DefaultRelyingPartyCache] when you do not know better).
	RelyingPartyCache time.Duration
	// ClockSkew is the validation skew relying parties allow
	// ([DefaultClockSkew]).
	ClockSkew time.Duration
	// LongestTokenLifetime is the longest lifetime of any token a key
	// signs; LongestTokenSource names where it comes from (e.g.
	// "clients[billing].accessTokenLifetime").
	LongestTokenLifetime time.Duration
	LongestTokenSource   string
}

// DefaultTimingOptions returns [DefaultOptions] with the default relying
// party cache, clock skew and JWKS max-age. Every value is taken as
// given: zero is zero.
func DefaultTimingOptions() TimingOptions {
	o := DefaultOptions()
	maxAge, _ := o.EffectiveJWKSMaxAge(0)
	return TimingOptions{Options: o, JWKSMaxAge: maxAge, RelyingPartyCache: DefaultRelyingPartyCache, ClockSkew: DefaultClockSkew}
}

// EffectiveJWKSMaxAge resolves a JWKS max-age for these options: zero
// gives the default (DefaultJWKSMaxAge or propagationTime/2, whichever is
// smaller); a negative value or one above propagationTime/2 is an error
// wrapping [ErrInvalidOptions] naming jwksMaxAge.
func (o Options) EffectiveJWKSMaxAge(maxAge time.Duration) (time.Duration, error) {
	half := o.PropagationTime / 2
	switch {
	case maxAge < 0:
		return 0, fmt.Errorf("%w: jwksMaxAge is %s; it must be positive, or omitted for the default", ErrInvalidOptions, maxAge)
	case maxAge == 0:
		return min(DefaultJWKSMaxAge, half), nil
	case maxAge > half:
		return 0, fmt.Errorf("%w: jwksMaxAge %s is more than half the propagationTime (%s): a client could cache a JWKS without a new key until that key signs; lower jwksMaxAge to at most %s or raise propagationTime",
			ErrInvalidOptions, FormatOptionDuration(maxAge), FormatOptionDuration(o.PropagationTime), FormatOptionDuration(half))
	}
	return maxAge, nil
}

// Timing returns the numbers the timing rules are checked with, defaults
// resolved. It does not validate: see [TimingOptions.Validate].
func (o TimingOptions) Timing() Timing {
	t := Timing{
		RotationInterval:     o.RotationInterval,
		PropagationTime:      o.PropagationTime,
		RetentionDuration:    o.RetentionDuration,
		KeyCacheDuration:     o.EffectiveKeyCacheDuration(),
		JWKSMaxAge:           o.JWKSMaxAge,
		RelyingPartyCache:    o.RelyingPartyCache,
		ClockSkew:            o.ClockSkew,
		LongestTokenLifetime: o.LongestTokenLifetime,
		LongestTokenSource:   o.LongestTokenSource,
	}
	if o.KeyCacheDuration == 0 {
		t.KeyCacheDurationCap = DefaultKeyCacheDuration
	}
	return t
}

// ErrUnsafeTiming reports a key schedule under which relying parties
// would reject valid tokens (see [CheckTiming]).
var ErrUnsafeTiming = errors.New("key: unsafe key timing")

// Validate checks [Options.Validate], the JWKS max-age bound, and every
// timing rule of [CheckTiming]. A broken timing rule wraps
// [ErrUnsafeTiming] and gives the rule, the numbers and a suggestion.
// With key management disabled only the options are checked.
func (o TimingOptions) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return err
	}
	if o.RelyingPartyCache < 0 || o.ClockSkew < 0 || o.LongestTokenLifetime < 0 {
		return fmt.Errorf("%w: relyingPartyCache, clockSkew and the longest token lifetime must not be negative", ErrInvalidOptions)
	}
	if o.JWKSMaxAge != 0 { // zero: max-age=0, always safe
		if _, err := o.EffectiveJWKSMaxAge(o.JWKSMaxAge); err != nil {
			return err
		}
	}
	if !o.Enabled {
		return nil
	}
	var errs []error
	for _, v := range CheckTiming(o.Timing()) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrUnsafeTiming, v))
	}
	return errors.Join(errs...)
}

// Timing is what CheckTiming checks.
type Timing struct {
	RotationInterval  time.Duration
	PropagationTime   time.Duration
	RetentionDuration time.Duration
	KeyCacheDuration  time.Duration // effective value
	JWKSMaxAge        time.Duration
	// KeyCacheDurationCap and JWKSMaxAgeCap, when set, say that the value
	// above is a default that follows propagationTime/2 up to the cap: a
	// suggested propagationTime counts the cap, so that it still holds
	// once the default has grown with it.
	KeyCacheDurationCap time.Duration
	JWKSMaxAgeCap       time.Duration

	RelyingPartyCache time.Duration
	ClockSkew         time.Duration
	// LongestTokenLifetime is the longest lifetime of any token a key
	// signs (access or ID token of any client), and LongestTokenSource
	// names where it comes from (e.g. "clients[billing].accessTokenLifetime").
	LongestTokenLifetime time.Duration
	LongestTokenSource   string
}

// Violation is one broken inequality.
type Violation struct {
	// Rule is the inequality, with option names.
	Rule string
	// Detail gives the numbers.
	Detail string
	// Suggestion is a value that satisfies the rule.
	Suggestion string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s; suggestion: %s", v.Rule, v.Detail, v.Suggestion)
}

// Check is one inequality of the key lifecycle evaluated with the
// configured numbers.
type Check struct {
	// Holds reports whether the inequality is satisfied.
	Holds bool
	// Numbers writes the inequality with the option names and values,
	// e.g. "rotationInterval 90d > propagationTime 14d" (with <= when it
	// does not hold).
	Numbers string
	// Violation is the broken rule (Holds false); its Rule is set either
	// way.
	Violation Violation
}

// CheckTiming returns every broken inequality of the key lifecycle:
//
//   - propagationTime > relyingPartyCache + jwksMaxAge + keyCacheDuration:
//     a new key reaches every client before it signs;
//   - retentionDuration > longest token lifetime + clock skew: a retired
//     key stays published while tokens it signed are valid;
//   - rotationInterval > propagationTime: a key signs after its
//     announcement.
func CheckTiming(t Timing) []Violation {
	var out []Violation
	for _, c := range Checks(t) {
		if !c.Holds {
			out = append(out, c.Violation)
		}
	}
	return out
}

// Checks evaluates every inequality of [CheckTiming], in the same order,
// whether it holds or not, so a report can show the margins too.
func Checks(t Timing) []Check {
	cmp := func(ok bool) string {
		if ok {
			return ">"
		}
		return "<="
	}
	var out []Check

	need := t.RelyingPartyCache + t.JWKSMaxAge + t.KeyCacheDuration
	c := Check{Holds: t.PropagationTime > need}
	c.Numbers = fmt.Sprintf("propagationTime %s %s relyingPartyCache %s + jwksMaxAge %s + keyCacheDuration %s = %s",
		FormatDuration(t.PropagationTime), cmp(c.Holds), FormatDuration(t.RelyingPartyCache), FormatDuration(t.JWKSMaxAge), FormatDuration(t.KeyCacheDuration), FormatDuration(need))
	c.Violation.Rule = "keyManagement.propagationTime > relyingPartyCache + jwksMaxAge + keyCacheDuration"
	if !c.Holds {
		grown := t.RelyingPartyCache + max(t.JWKSMaxAge, t.JWKSMaxAgeCap) + max(t.KeyCacheDuration, t.KeyCacheDurationCap)
		suggest := roundUp(grown + grown/4)
		c.Violation.Detail = fmt.Sprintf("propagationTime %s <= %s + %s + %s = %s: clients may see a token signed by a key not in their cached JWKS",
			FormatDuration(t.PropagationTime), FormatDuration(t.RelyingPartyCache), FormatDuration(t.JWKSMaxAge), FormatDuration(t.KeyCacheDuration), FormatDuration(need))
		c.Violation.Suggestion = fmt.Sprintf("propagationTime: %s (or lower relyingPartyCache, jwksMaxAge or keyCacheDuration)", FormatDuration(suggest))
		if t.RotationInterval <= suggest {
			c.Violation.Suggestion += fmt.Sprintf(", with rotationInterval: %s", FormatDuration(roundUp(suggest*6)))
		}
	}
	out = append(out, c)

	need = t.LongestTokenLifetime + t.ClockSkew
	src := t.LongestTokenSource
	if src == "" {
		src = "the longest token lifetime"
	}
	c = Check{Holds: t.RetentionDuration > need}
	c.Numbers = fmt.Sprintf("retentionDuration %s %s longest token lifetime %s (%s) + clockSkew %s = %s",
		FormatDuration(t.RetentionDuration), cmp(c.Holds), FormatDuration(t.LongestTokenLifetime), src, FormatDuration(t.ClockSkew), FormatDuration(need))
	c.Violation.Rule = "keyManagement.retentionDuration > longest token lifetime + clock skew"
	if !c.Holds {
		c.Violation.Detail = fmt.Sprintf("retentionDuration %s <= %s (%s) + %s = %s: tokens signed just before a key retires would outlive its publication",
			FormatDuration(t.RetentionDuration), FormatDuration(t.LongestTokenLifetime), src, FormatDuration(t.ClockSkew), FormatDuration(need))
		c.Violation.Suggestion = fmt.Sprintf("retentionDuration: %s (or shorten %s)", FormatDuration(roundUp(need+need/4)), src)
	}
	out = append(out, c)

	c = Check{Holds: t.RotationInterval > t.PropagationTime}
	c.Numbers = fmt.Sprintf("rotationInterval %s %s propagationTime %s", FormatDuration(t.RotationInterval), cmp(c.Holds), FormatDuration(t.PropagationTime))
	c.Violation.Rule = "keyManagement.rotationInterval > propagationTime"
	if !c.Holds {
		c.Violation.Detail = fmt.Sprintf("rotationInterval %s <= propagationTime %s: a key would retire before it could sign", FormatDuration(t.RotationInterval), FormatDuration(t.PropagationTime))
		c.Violation.Suggestion = fmt.Sprintf("rotationInterval: %s", FormatDuration(roundUp(t.PropagationTime*6)))
	}
	return append(out, c)
}

// roundUp rounds a suggestion up to a whole hour (whole minute below an
// hour, whole second below a minute).
func roundUp(d time.Duration) time.Duration {
	unit := time.Hour
	switch {
	case d < time.Minute:
		unit = time.Second
	case d < time.Hour:
		unit = time.Minute
	}
	return (d + unit - 1) / unit * unit
}

// FormatOptionDuration writes d as configuration error messages do:
// whole days as 14d, anything else in Go syntax (36h0m0s).
func FormatOptionDuration(d time.Duration) string {
	if d > 0 && d%Day == 0 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	return d.String()
}

// FormatDuration formats a duration with days for long spans, as the
// timing checks and the advisor write them: 14d, 1d12h, 2d1h30m, 90m.
func FormatDuration(d time.Duration) string {
	if d >= 24*time.Hour {
		days, rest := d/(24*time.Hour), d%(24*time.Hour)
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%s", days, FormatDuration(rest))
	}
	s := d.String()
	for _, suf := range []string{"m0s", "h0m"} {
		if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
			s = s[:len(s)-len(suf)+1]
		}
	}
	return s
}
