package key

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTimingOptionsValidate(t *testing.T) {
	if err := DefaultTimingOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	o := DefaultTimingOptions()
	o.RelyingPartyCache = 14 * Day // 14d + 1h + 24h >= propagationTime 14d
	err := o.Validate()
	if !errors.Is(err, ErrUnsafeTiming) || !strings.Contains(err.Error(), "keyManagement.propagationTime > relyingPartyCache + jwksMaxAge + keyCacheDuration") ||
		!strings.Contains(err.Error(), "suggestion: propagationTime:") {
		t.Fatalf("relying-party cache longer than the propagation: %v", err)
	}
	o = DefaultTimingOptions()
	o.LongestTokenLifetime, o.LongestTokenSource = 14*Day, "clients[api].accessTokenLifetime"
	if err := o.Validate(); !errors.Is(err, ErrUnsafeTiming) || !strings.Contains(err.Error(), "clients[api].accessTokenLifetime") {
		t.Fatalf("a token outliving retention: %v", err)
	}
	o = DefaultTimingOptions()
	o.JWKSMaxAge = 7*Day + time.Second
	if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "jwksMaxAge") {
		t.Fatalf("max-age above propagationTime/2: %v", err)
	}
	o = DefaultTimingOptions()
	o.ClockSkew = -time.Second
	if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("negative skew: %v", err)
	}
	o = DefaultTimingOptions()
	o.RotationInterval = o.PropagationTime
	if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("the options' own rules come first: %v", err)
	}
	// The same rules config check reports: one violation per broken rule.
	if v := CheckTiming(o.Timing()); len(v) != 1 {
		t.Fatalf("CheckTiming %v", v)
	}
}

func TestEffectiveJWKSMaxAge(t *testing.T) {
	o := DefaultOptions()
	o.PropagationTime = time.Hour
	for in, want := range map[time.Duration]time.Duration{0: 30 * time.Minute, time.Minute: time.Minute, 30 * time.Minute: 30 * time.Minute} {
		if got, err := o.EffectiveJWKSMaxAge(in); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", in, got, err, want)
		}
	}
	if _, err := o.EffectiveJWKSMaxAge(31 * time.Minute); err == nil || !strings.Contains(err.Error(), "31m0s is more than half the propagationTime (1h0m0s)") {
		t.Fatalf("31m: %v", err)
	}
}
