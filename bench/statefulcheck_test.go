package main

import (
	"strings"
	"testing"
)

// TestStatefulChecks: --check computes each target of issue 20 from one
// run's rows and says PASS or FAIL; a missing row fails its target.
func TestStatefulChecks(t *testing.T) {
	row := func(server, store, flow string, perSecond, p50, p99 float64) statefulRow {
		return statefulRow{Server: server, Cores: 1, Store: store, Flow: flow, PerSecond: perSecond, P50Ms: p50, P99Ms: p99, RSSStartMiB: 50, RSSEndMiB: 52}
	}
	rows := []statefulRow{
		row("signet", "sqlite", "refresh", 1600, 10, 25),
		row("signet", "tmpfs", "refresh", 2000, 8, 20),
		row("signet", "sqlite", "signin", 700, 20, 50),
		row("signet", "sqlite", "introspect", 7000, 2, 7),  // p99 3.5× p50
		row("signet", "postgres", "refresh", 1000, 10, 20), // 0.83× the peer
		row("signet", "postgres", "signin", 800, 20, 40),
		row("signet", "postgres", "introspect", 6000, 2, 5),
		row("oidc-provider", "memory", "refresh", 1200, 10, 20),
		row("oidc-provider", "memory", "signin", 300, 50, 100),
		row("oidc-provider", "memory", "introspect", 5000, 3, 6),
		row("signet", "sqlite", "refresh", 100, 1, 1), // 2 cores: not used
	}
	rows[len(rows)-1].Cores = 2
	got := map[string]statefulTarget{}
	for _, tg := range statefulTargets(rows) {
		got[tg.Name] = tg
	}
	for name, want := range map[string]struct {
		value float64
		pass  bool
	}{
		"refresh sqlite / tmpfs":              {0.8, true},
		"refresh sqlite / oidc-provider":      {1600.0 / 1200, true},
		"refresh postgres / oidc-provider":    {1000.0 / 1200, false},
		"signin sqlite / oidc-provider":       {700.0 / 300, true},
		"introspect postgres / oidc-provider": {1.2, true},
		"p99/p50 introspect sqlite":           {3.5, false},
		"p99/p50 refresh postgres":            {2, true},
		"RSS end/start refresh sqlite":        {52.0 / 50, true},
	} {
		tg, ok := got[name]
		if !ok {
			t.Errorf("no target %q", name)
			continue
		}
		if d := tg.Value - want.value; d > 1e-9 || d < -1e-9 || tg.pass() != want.pass {
			t.Errorf("%s = %v pass %v, want %v pass %v", name, tg.Value, tg.pass(), want.value, want.pass)
		}
	}
	var b strings.Builder
	if writeStatefulChecks(&b, rows, "10s") {
		t.Errorf("all passed, want FAIL lines:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "check refresh postgres / oidc-provider") || !strings.Contains(b.String(), "FAIL") {
		t.Errorf("output:\n%s", b.String())
	}
	// Without the peer's rows, its targets fail as missing.
	for _, tg := range statefulTargets(rows[:7]) {
		if strings.Contains(tg.Name, "oidc-provider") && (tg.pass() || tg.Missing == "") {
			t.Errorf("%s without the peer: %+v", tg.Name, tg)
		}
	}
}
