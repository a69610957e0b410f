package advisor

import (
	"fmt"
	"time"
)

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
		human(t.PropagationTime), cmp(c.Holds), human(t.RelyingPartyCache), human(t.JWKSMaxAge), human(t.KeyCacheDuration), human(need))
	c.Violation.Rule = "keyManagement.propagationTime > relyingPartyCache + jwksMaxAge + keyCacheDuration"
	if !c.Holds {
		grown := t.RelyingPartyCache + max(t.JWKSMaxAge, t.JWKSMaxAgeCap) + max(t.KeyCacheDuration, t.KeyCacheDurationCap)
		suggest := roundUp(grown + grown/4)
		c.Violation.Detail = fmt.Sprintf("propagationTime %s <= %s + %s + %s = %s: clients may see a token signed by a key not in their cached JWKS",
			human(t.PropagationTime), human(t.RelyingPartyCache), human(t.JWKSMaxAge), human(t.KeyCacheDuration), human(need))
		c.Violation.Suggestion = fmt.Sprintf("propagationTime: %s (or lower relyingPartyCache, jwksMaxAge or keyCacheDuration)", human(suggest))
		if t.RotationInterval <= suggest {
			c.Violation.Suggestion += fmt.Sprintf(", with rotationInterval: %s", human(roundUp(suggest*6)))
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
		human(t.RetentionDuration), cmp(c.Holds), human(t.LongestTokenLifetime), src, human(t.ClockSkew), human(need))
	c.Violation.Rule = "keyManagement.retentionDuration > longest token lifetime + clock skew"
	if !c.Holds {
		c.Violation.Detail = fmt.Sprintf("retentionDuration %s <= %s (%s) + %s = %s: tokens signed just before a key retires would outlive its publication",
			human(t.RetentionDuration), human(t.LongestTokenLifetime), src, human(t.ClockSkew), human(need))
		c.Violation.Suggestion = fmt.Sprintf("retentionDuration: %s (or shorten %s)", human(roundUp(need+need/4)), src)
	}
	out = append(out, c)

	c = Check{Holds: t.RotationInterval > t.PropagationTime}
	c.Numbers = fmt.Sprintf("rotationInterval %s %s propagationTime %s", human(t.RotationInterval), cmp(c.Holds), human(t.PropagationTime))
	c.Violation.Rule = "keyManagement.rotationInterval > propagationTime"
	if !c.Holds {
		c.Violation.Detail = fmt.Sprintf("rotationInterval %s <= propagationTime %s: a key would retire before it could sign", human(t.RotationInterval), human(t.PropagationTime))
		c.Violation.Suggestion = fmt.Sprintf("rotationInterval: %s", human(roundUp(t.PropagationTime*6)))
	}
	return append(out, c)
}

// FormatDuration writes d as the advisor does: whole days as 14d or
// 1d12h, shorter spans in Go syntax without zero units (90m, 1m30s).
func FormatDuration(d time.Duration) string { return human(d) }

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
