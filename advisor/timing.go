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
	need := t.RelyingPartyCache + t.JWKSMaxAge + t.KeyCacheDuration
	if t.PropagationTime <= need {
		out = append(out, Violation{
			Rule: "keyManagement.propagationTime > relyingPartyCache + jwksMaxAge + keyCacheDuration",
			Detail: fmt.Sprintf("propagationTime %s <= %s + %s + %s = %s: clients may see a token signed by a key not in their cached JWKS",
				human(t.PropagationTime), human(t.RelyingPartyCache), human(t.JWKSMaxAge), human(t.KeyCacheDuration), human(need)),
			Suggestion: fmt.Sprintf("propagationTime: %s (or lower relyingPartyCache, jwksMaxAge or keyCacheDuration)", human(roundUp(need+need/4))),
		})
	}
	need = t.LongestTokenLifetime + t.ClockSkew
	if t.RetentionDuration <= need {
		src := t.LongestTokenSource
		if src == "" {
			src = "the longest token lifetime"
		}
		out = append(out, Violation{
			Rule: "keyManagement.retentionDuration > longest token lifetime + clock skew",
			Detail: fmt.Sprintf("retentionDuration %s <= %s (%s) + %s = %s: tokens signed just before a key retires would outlive its publication",
				human(t.RetentionDuration), human(t.LongestTokenLifetime), src, human(t.ClockSkew), human(need)),
			Suggestion: fmt.Sprintf("retentionDuration: %s (or shorten %s)", human(roundUp(need+need/4)), src),
		})
	}
	if t.RotationInterval <= t.PropagationTime {
		out = append(out, Violation{
			Rule:       "keyManagement.rotationInterval > propagationTime",
			Detail:     fmt.Sprintf("rotationInterval %s <= propagationTime %s: a key would retire before it could sign", human(t.RotationInterval), human(t.PropagationTime)),
			Suggestion: fmt.Sprintf("rotationInterval: %s", human(roundUp(t.PropagationTime*6))),
		})
	}
	return out
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
