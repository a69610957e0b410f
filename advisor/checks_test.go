package advisor

import (
	"strings"
	"testing"
	"time"
)

func defaultTiming() Timing {
	return Timing{
		RotationInterval: 90 * 24 * time.Hour, PropagationTime: 14 * 24 * time.Hour, RetentionDuration: 14 * 24 * time.Hour,
		KeyCacheDuration: 24 * time.Hour, JWKSMaxAge: time.Hour, RelyingPartyCache: 24 * time.Hour,
		ClockSkew: 5 * time.Minute, LongestTokenLifetime: time.Hour, LongestTokenSource: "clients[billing].accessTokenLifetime",
	}
}

// Checks shows every rule with its numbers; CheckTiming is its broken part.
func TestChecks(t *testing.T) {
	c := Checks(defaultTiming())
	want := []string{
		"propagationTime 14d > relyingPartyCache 1d + jwksMaxAge 1h + keyCacheDuration 1d = 2d1h",
		"retentionDuration 14d > longest token lifetime 1h (clients[billing].accessTokenLifetime) + clockSkew 5m = 1h5m",
		"rotationInterval 90d > propagationTime 14d",
	}
	if len(c) != len(want) {
		t.Fatalf("%d checks, want %d", len(c), len(want))
	}
	for i := range c {
		if !c[i].Holds || c[i].Numbers != want[i] || c[i].Violation.Rule == "" || c[i].Violation.Detail != "" {
			t.Errorf("check %d: %+v, want %q holding", i, c[i], want[i])
		}
	}
	tm := defaultTiming()
	tm.RotationInterval = tm.PropagationTime
	tm.RetentionDuration = time.Hour
	c = Checks(tm)
	v := CheckTiming(tm)
	if !c[0].Holds || c[1].Holds || c[2].Holds || len(v) != 2 || v[0] != c[1].Violation || v[1] != c[2].Violation {
		t.Fatalf("checks %+v, violations %+v", c, v)
	}
	if c[2].Numbers != "rotationInterval 14d <= propagationTime 14d" {
		t.Errorf("numbers of a broken rule: %q", c[2].Numbers)
	}
}

// A suggested propagationTime counts the caps of defaults that grow with
// it, and names a rotationInterval when the current one would be too short.
func TestPropagationSuggestionCountsCaps(t *testing.T) {
	tm := defaultTiming()
	tm.RotationInterval, tm.PropagationTime = 3*time.Second, time.Second
	tm.KeyCacheDuration, tm.JWKSMaxAge = 500*time.Millisecond, 500*time.Millisecond
	v := CheckTiming(tm)
	if len(v) == 0 || !strings.Contains(v[0].Suggestion, "propagationTime: 1d7h") {
		t.Fatalf("without caps: %v", v)
	}
	tm.KeyCacheDurationCap, tm.JWKSMaxAgeCap = 24*time.Hour, time.Hour
	v = CheckTiming(tm)
	if len(v) == 0 || !strings.Contains(v[0].Suggestion, "propagationTime: 2d14h") || !strings.Contains(v[0].Suggestion, "with rotationInterval: 15d12h") {
		t.Fatalf("with caps: %v", v)
	}
	if !strings.Contains(v[0].Detail, "1d + 500ms + 500ms = 1d1s") {
		t.Fatalf("the detail shows today's values: %s", v[0].Detail)
	}
}

// The boundaries of the advisor's warnings: leaving phase 1 exactly when
// it was safe, and dropping the old key exactly when its tokens expired,
// warn of nothing; a second earlier warns.
func TestAdviseWarningBoundaries(t *testing.T) {
	announced := t0.Add(-48 * time.Hour)
	safe := announced.Add(25 * time.Hour) // relying-party cache 1d + max-age 1h
	for _, tc := range []struct {
		name string
		mod  func(*Input)
		warn string
	}{
		{"phase 2 began exactly when safe", func(in *Input) {
			in.ManagedEnabled, in.ValidationKeys = true, 1
			in.ManagedAnnounced, in.Phase2Started = announced, safe
		}, ""},
		{"phase 2 began a second early", func(in *Input) {
			in.ManagedEnabled, in.ValidationKeys = true, 1
			in.ManagedAnnounced, in.Phase2Started = announced, safe.Add(-time.Second)
		}, "before phase 1 was safe"},
		{"old key dropped exactly when safe", func(in *Input) {
			in.ManagedEnabled = true
			in.StaticLastSigned = t0.Add(-66 * time.Minute) // 1h + 5m + 1m
		}, ""},
		{"old key dropped a second early", func(in *Input) {
			in.ManagedEnabled = true
			in.StaticLastSigned = t0.Add(-66*time.Minute + time.Second)
		}, "dropped early"},
		{"old key dropped early, counted from phase 2", func(in *Input) {
			in.ManagedEnabled = true
			in.StaticLastSigned = t0.Add(-48 * time.Hour)
			in.Phase2Started = t0.Add(-time.Hour)
		}, "valid until 2026-03-01T12:06:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.mod(&in)
			a := Advise(in)
			if tc.warn == "" && a.Warning != "" || !strings.Contains(a.Warning, tc.warn) {
				t.Fatalf("warning %q, want %q", a.Warning, tc.warn)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		49*time.Hour + 30*time.Minute: "2d1h30m", 24*time.Hour + time.Second: "1d1s", 0: "0s", 500 * time.Millisecond: "500ms",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
