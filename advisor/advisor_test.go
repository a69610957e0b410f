package advisor

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func base() Input {
	return Input{
		Now: t0, RelyingPartyCache: 24 * time.Hour, JWKSMaxAge: time.Hour,
		LongestTokenLifetime: time.Hour, ClockSkew: 5 * time.Minute, RecordInterval: time.Minute,
	}
}

func TestAdvisePhases(t *testing.T) {
	announced := t0.Add(-10 * time.Hour)
	cases := []struct {
		name   string
		mod    func(*Input)
		phase  Phase
		safe   bool
		safeAt time.Time
		warn   string
		why    string
	}{
		{"static only", func(in *Input) { in.StaticSigning = true }, PhaseStaticOnly, true, time.Time{}, "", "always safe"},
		{"phase 1 not yet announced", func(in *Input) { in.StaticSigning, in.ManagedEnabled = true, true }, PhaseAnnounce, false, time.Time{}, "", "start signet"},
		{"phase 1 one second early", func(in *Input) {
			in.StaticSigning, in.ManagedEnabled = true, true
			in.ManagedAnnounced = t0.Add(-25*time.Hour + time.Second)
		}, PhaseAnnounce, false, t0.Add(time.Second), "", "1d + JWKS max-age 1h"},
		{"phase 1 exactly safe", func(in *Input) {
			in.StaticSigning, in.ManagedEnabled = true, true
			in.ManagedAnnounced = t0.Add(-25 * time.Hour)
		}, PhaseAnnounce, true, t0, "", "1h"},
		{"phase 2 unknown", func(in *Input) { in.ManagedEnabled, in.ValidationKeys = true, 1 }, PhaseSignManaged, false, time.Time{}, "", "ask again"},
		{"phase 2 one second early", func(in *Input) {
			in.ManagedEnabled, in.ValidationKeys = true, 1
			in.StaticLastSigned = t0.Add(-66*time.Minute + time.Second)
		}, PhaseSignManaged, false, t0.Add(time.Second), "", "1h"},
		{"phase 2 exactly safe", func(in *Input) {
			in.ManagedEnabled, in.ValidationKeys = true, 1
			in.StaticLastSigned = t0.Add(-66 * time.Minute)
		}, PhaseSignManaged, true, t0, "", "5m"},
		{"phase 2 counts from its start when later", func(in *Input) {
			in.ManagedEnabled, in.ValidationKeys = true, 1
			in.StaticLastSigned = t0.Add(-48 * time.Hour)
			in.Phase2Started = t0.Add(-time.Hour)
		}, PhaseSignManaged, false, t0.Add(6 * time.Minute), "", ""},
		{"phase 2 entered too early", func(in *Input) {
			in.ManagedEnabled, in.ValidationKeys = true, 1
			in.ManagedAnnounced = announced
			in.Phase2Started = announced.Add(time.Hour)
		}, PhaseSignManaged, true, announced.Add(time.Hour + 66*time.Minute), "before phase 1 was safe", ""},
		{"phase 3 done", func(in *Input) {
			in.ManagedEnabled = true
			in.StaticLastSigned = t0.Add(-48 * time.Hour)
		}, PhaseDone, false, time.Time{}, "", ""},
		{"phase 3 too early", func(in *Input) {
			in.ManagedEnabled = true
			in.StaticLastSigned = t0.Add(-time.Minute)
		}, PhaseDone, false, time.Time{}, "dropped early", ""},
		{"managed only", func(in *Input) { in.ManagedEnabled = true }, PhaseManagedOnly, false, time.Time{}, "", ""},
		{"nothing", func(in *Input) {}, PhaseNone, false, time.Time{}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base()
			c.mod(&in)
			a := Advise(in)
			if a.Phase != c.phase || a.Safe != c.safe || !a.SafeAt.Equal(c.safeAt) {
				t.Fatalf("got phase %v safe %v at %s, want %v %v at %s (why: %s)", a.Phase, a.Safe, a.SafeAt, c.phase, c.safe, c.safeAt, a.Why)
			}
			if c.warn == "" && a.Warning != "" || !strings.Contains(a.Warning, c.warn) {
				t.Fatalf("warning %q, want %q", a.Warning, c.warn)
			}
			if !strings.Contains(a.Why, c.why) {
				t.Fatalf("why %q lacks %q", a.Why, c.why)
			}
		})
	}
}

func TestCheckTiming(t *testing.T) {
	ok := Timing{
		RotationInterval: 90 * 24 * time.Hour, PropagationTime: 14 * 24 * time.Hour, RetentionDuration: 14 * 24 * time.Hour,
		KeyCacheDuration: 24 * time.Hour, JWKSMaxAge: time.Hour, RelyingPartyCache: 24 * time.Hour,
		ClockSkew: 5 * time.Minute, LongestTokenLifetime: time.Hour, LongestTokenSource: "clients[billing].accessTokenLifetime",
	}
	if v := CheckTiming(ok); len(v) != 0 {
		t.Fatalf("defaults violate: %v", v)
	}
	cases := []struct {
		name string
		mod  func(*Timing)
		rule string // "" = no violation
	}{
		{"propagation at the bound", func(t *Timing) { t.PropagationTime = 49 * time.Hour }, "propagationTime >"},
		{"propagation just above", func(t *Timing) { t.PropagationTime = 49*time.Hour + time.Second }, ""},
		{"retention at the bound", func(t *Timing) { t.RetentionDuration = 65 * time.Minute }, "retentionDuration >"},
		{"retention just above", func(t *Timing) { t.RetentionDuration = 65*time.Minute + time.Second }, ""},
		{"rotation at propagation", func(t *Timing) { t.RotationInterval = t.PropagationTime }, "rotationInterval >"},
		{"rotation just above", func(t *Timing) { t.RotationInterval = t.PropagationTime + time.Second }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := ok
			c.mod(&tm)
			v := CheckTiming(tm)
			if c.rule == "" {
				if len(v) != 0 {
					t.Fatalf("unexpected %v", v)
				}
				return
			}
			if len(v) != 1 || !strings.Contains(v[0].Rule, c.rule) {
				t.Fatalf("violations %v, want one on %q", v, c.rule)
			}
			if v[0].Detail == "" || v[0].Suggestion == "" {
				t.Fatalf("violation lacks numbers or suggestion: %+v", v[0])
			}
		})
	}
	// The suggestion satisfies the rule it names.
	tm := ok
	tm.PropagationTime = time.Hour
	v := CheckTiming(tm)
	if len(v) != 1 || !strings.Contains(v[0].Suggestion, "propagationTime: 2d14h") {
		t.Fatalf("suggestion %v", v)
	}
	tm = ok
	tm.RetentionDuration = time.Hour
	if v := CheckTiming(tm); len(v) != 1 || !strings.Contains(v[0].Detail, "clients[billing].accessTokenLifetime") {
		t.Fatalf("retention violation must name the client: %v", v)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		14 * 24 * time.Hour: "14d", 36 * time.Hour: "1d12h", time.Hour: "1h", 5 * time.Minute: "5m", 90 * time.Second: "1m30s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %q, want %q", d, got, want)
		}
	}
}
