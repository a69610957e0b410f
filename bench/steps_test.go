package main

import (
	"strings"
	"testing"
	"time"
)

// TestStepRecorder: each step of a sign-in gets its own p50 and p99, and
// its mean in the slowest sign-ins (at or above the flow's p99) says
// which step the tail comes from: here the token exchange, slow in one
// sign-in of a hundred.
func TestStepRecorder(t *testing.T) {
	var r stepRecorder
	var laps *stepLaps
	laps.lap("authorize") // a nil *stepLaps times nothing (set-up sign-ins)
	laps = &stepLaps{}
	for i := range 100 {
		laps.reset()
		token := time.Millisecond
		if i == 99 {
			token = 20 * time.Millisecond
		}
		laps.names = append(laps.names, "authorize", "login", "token")
		laps.d = append(laps.d, time.Millisecond, 2*time.Millisecond, token)
		r.record(3*time.Millisecond+token, laps)
	}
	got := r.figures(23 * time.Millisecond)
	if len(got) != 3 || got[0].Name != "authorize" || got[1].Name != "login" || got[2].Name != "token" {
		t.Fatalf("steps %+v; want authorize, login, token in order", got)
	}
	near := func(a, b float64) bool { return a > b*0.99 && a < b*1.01 }
	if s := got[1]; !near(s.P50Ms, 2) || !near(s.P99Ms, 2) || !near(s.MeanMs, 2) || !near(s.TailMs, 2) || !near(s.TailOver, 1) {
		t.Errorf("login: %+v; want 2 ms everywhere", s)
	}
	if s := got[2]; !near(s.P50Ms, 1) || !near(s.TailMs, 20) || !near(s.MeanMs, 1.19) {
		t.Errorf("token: %+v; want p50 1 ms, 20 ms in the tail, mean 1.19", s)
	}
	var b strings.Builder
	writeSteps(&b, []statefulRow{{Cores: 1, Server: "signet", Store: "sqlite", Flow: "signin", Steps: got}})
	if s := "steps 1-core signet sqlite signin, p50/p99 (p99/p50): authorize 1.00/1.00 ms (1.00), mean 1.00, in the slowest 1% 1.00 (1.0x)"; !strings.Contains(b.String(), s) {
		t.Errorf("no %q in:\n%s", s, b.String())
	}
}
