package advisor

import (
	"fmt"
	"time"

	"github.com/signet-id/signet/key"
)

// Defaults for what the server cannot know about its relying parties.
const (
	// DefaultRelyingPartyCache is the longest JWKS cache of common client
	// libraries (Duende IdentityModel's DiscoveryCache: 24 h).
	DefaultRelyingPartyCache = key.DefaultRelyingPartyCache
	// DefaultClockSkew is the validation skew .NET allows by default.
	DefaultClockSkew = key.DefaultClockSkew
)

// Phase is a step of the seed's migration.
type Phase int

// Phases.
const (
	PhaseStaticOnly  Phase = iota // a static key signs, no managed keys
	PhaseAnnounce                 // 1: managed keys announced, static key signs
	PhaseSignManaged              // 2: managed keys sign, old key kept for validation
	PhaseDone                     // 3: managed keys only
	PhaseManagedOnly              // managed keys only, no migration recorded
	PhaseNone                     // no signing key configured at all
)

func (p Phase) String() string {
	switch p {
	case PhaseStaticOnly:
		return "static only"
	case PhaseAnnounce:
		return "phase 1: announce managed keys (the static key signs)"
	case PhaseSignManaged:
		return "phase 2: sign with managed keys (the old key validates)"
	case PhaseDone:
		return "phase 3: done (managed keys only)"
	case PhaseManagedOnly:
		return "managed keys only"
	}
	return "no signing key"
}

// Input is what the advisor needs: the configuration's shape and timings
// and the timestamps the server recorded in the store.
type Input struct {
	Now time.Time

	ManagedEnabled bool // keyManagement.enabled
	StaticSigning  bool // a signingCredential is configured
	ValidationKeys int  // how many validationKeys are configured

	ManagedAnnounced time.Time // managed keys first published while the static key signed
	StaticLastSigned time.Time // the static key last signed (to RecordInterval)
	Phase2Started    time.Time // managed keys first signed with the old key validating
	RecordInterval   time.Duration

	RelyingPartyCache    time.Duration // longest client JWKS cache
	JWKSMaxAge           time.Duration
	LongestTokenLifetime time.Duration
	ClockSkew            time.Duration
}

// Advice is the advisor's answer.
type Advice struct {
	Phase Phase
	// Next describes the next step, empty when there is none.
	Next string
	// SafeAt is the earliest moment the next step is safe; zero when it
	// is safe whenever the operator likes, or cannot be known.
	SafeAt time.Time
	// Safe reports whether the next step is safe now.
	Safe bool
	// Why explains SafeAt with the numbers behind it.
	Why string
	// Warning reports a step already taken too early.
	Warning string
}

// Advise names the migration phase and when the next one is safe.
func Advise(in Input) Advice {
	switch {
	case in.StaticSigning && !in.ManagedEnabled:
		return Advice{Phase: PhaseStaticOnly, Safe: true,
			Next: "enable keyManagement and keep signingCredential (phase 1)",
			Why:  "announcing managed keys is always safe: nothing signs with them yet"}
	case in.StaticSigning:
		a := Advice{Phase: PhaseAnnounce, Next: "move signingCredential to validationKeys (phase 2)"}
		if in.ManagedAnnounced.IsZero() {
			a.Why = "no server has published the managed keys yet: start signet with this configuration, then ask again"
			return a
		}
		wait := in.RelyingPartyCache + in.JWKSMaxAge
		a.SafeAt = in.ManagedAnnounced.Add(wait)
		a.Safe = !in.Now.Before(a.SafeAt)
		a.Why = fmt.Sprintf("managed keys were announced at %s; every client must have refreshed its JWKS: longest relying-party cache %s + JWKS max-age %s = %s",
			stamp(in.ManagedAnnounced), human(in.RelyingPartyCache), human(in.JWKSMaxAge), human(wait))
		return a
	case in.ManagedEnabled && in.ValidationKeys > 0:
		a := Advice{Phase: PhaseSignManaged, Next: "remove the old key from validationKeys (phase 3)"}
		if w := phase1Warning(in); w != "" {
			a.Warning = w
		}
		last := in.StaticLastSigned
		if in.Phase2Started.After(last) {
			last = in.Phase2Started
		}
		if last.IsZero() {
			a.Why = "no use of the static key and no start of phase 2 is recorded: start signet with this configuration, then ask again"
			return a
		}
		wait := in.LongestTokenLifetime + in.ClockSkew + in.RecordInterval
		a.SafeAt = last.Add(wait)
		a.Safe = !in.Now.Before(a.SafeAt)
		a.Why = fmt.Sprintf("the static key last signed at or before %s; its tokens must expire: longest token lifetime %s + clock skew %s + recording interval %s = %s",
			stamp(last), human(in.LongestTokenLifetime), human(in.ClockSkew), human(in.RecordInterval), human(wait))
		return a
	case in.ManagedEnabled:
		if in.ManagedAnnounced.IsZero() && in.StaticLastSigned.IsZero() && in.Phase2Started.IsZero() {
			return Advice{Phase: PhaseManagedOnly}
		}
		a := Advice{Phase: PhaseDone}
		last := in.StaticLastSigned
		if in.Phase2Started.After(last) {
			last = in.Phase2Started
		}
		if !last.IsZero() {
			if until := last.Add(in.LongestTokenLifetime + in.ClockSkew + in.RecordInterval); in.Now.Before(until) {
				a.Warning = fmt.Sprintf("the old key was dropped early: tokens it signed may be valid until %s and now fail validation; put it back in validationKeys until then", stamp(until))
			}
		}
		return a
	}
	return Advice{Phase: PhaseNone, Next: "configure a signingCredential or enable keyManagement"}
}

func phase1Warning(in Input) string {
	if in.ManagedAnnounced.IsZero() || in.Phase2Started.IsZero() {
		return ""
	}
	safe := in.ManagedAnnounced.Add(in.RelyingPartyCache + in.JWKSMaxAge)
	if in.Phase2Started.Before(safe) {
		return fmt.Sprintf("phase 2 began at %s, before phase 1 was safe to leave (%s): clients with older JWKS caches may have rejected tokens in between",
			stamp(in.Phase2Started), stamp(safe))
	}
	return ""
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// human formats a duration with days for long spans (key.FormatDuration).
func human(d time.Duration) string { return key.FormatDuration(d) }
