package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestRoundOrder: every round measures every unit once, and the order is
// reversed every other round, so no unit is always first or last.
func TestRoundOrder(t *testing.T) {
	for _, c := range []struct {
		rounds, n int
		want      [][]int
	}{
		{1, 3, [][]int{{0, 1, 2}}},
		{2, 2, [][]int{{0, 1}, {1, 0}}},
		{3, 4, [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {0, 1, 2, 3}}},
		{2, 1, [][]int{{0}, {0}}},
	} {
		got := roundOrder(c.rounds, c.n)
		if !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("roundOrder(%d, %d) = %v; want %v", c.rounds, c.n, got, c.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{565, 374, 403}, 403},
		{[]float64{4, 1}, 2.5},
		{[]float64{3, 9, 1, 5}, 4},
	} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v; want %v", c.xs, got, c.want)
		}
	}
}

// TestMedianRows: one row per key in the first round's order, each figure
// the median of the rounds without an error, the errors of every round
// counted, and a key that failed in every round keeps its error.
func TestMedianRows(t *testing.T) {
	row := func(round int, server, store string, perSecond, p50, p99 float64) statefulRow {
		return statefulRow{Round: round, Cores: 1, Server: server, Store: store, Flow: "signin", PerSecond: perSecond, P50Ms: p50, P99Ms: p99, Errors: 1, ServerCPUMs: perSecond / 1000}
	}
	bad := statefulRow{Round: 3, Cores: 1, Server: "signet", Store: "sqlite", Flow: "signin", Error: "setup sign-in: refused"}
	rows := []statefulRow{
		row(1, "signet", "sqlite", 1000, 10, 30), row(1, "oidc-provider", "memory", 565, 20, 40),
		row(2, "oidc-provider", "memory", 374, 30, 60), row(2, "signet", "sqlite", 900, 12, 40),
		row(3, "oidc-provider", "memory", 403, 25, 50), bad,
		{Round: 1, Cores: 1, Server: "signet", Store: "postgres", Flow: "signin", Error: "no --postgres-dsn"},
		{Round: 2, Cores: 1, Server: "signet", Store: "postgres", Flow: "signin", Error: "no --postgres-dsn"},
	}
	got := medianRows(rows)
	var keys []string
	for _, r := range got {
		keys = append(keys, rowKey(r))
		if r.Round != 0 {
			t.Errorf("%s: round %d, want 0 (a median)", rowKey(r), r.Round)
		}
	}
	if want := []string{"1 signet sqlite signin", "1 oidc-provider memory signin", "1 signet postgres signin"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v; want %v", keys, want)
	}
	for i, want := range []struct {
		perSecond, p50, p99, cpu float64
		errors                   int64
		rounds                   int
		err                      string
	}{
		{950, 11, 35, 0.95, 2, 3, ""}, // two good rounds of three: their mean
		{403, 25, 50, 0.403, 3, 3, ""},
		{0, 0, 0, 0, 0, 2, "no --postgres-dsn"},
	} {
		r := got[i]
		if r.PerSecond != want.perSecond || r.P50Ms != want.p50 || r.P99Ms != want.p99 || r.ServerCPUMs != want.cpu ||
			r.Errors != want.errors || r.Rounds != want.rounds || r.Error != want.err {
			t.Errorf("%s: %+v; want %+v", rowKey(r), r, want)
		}
	}
	if m := medianRows(rows[:2]); len(m) != 2 || m[0].PerSecond != 1000 || m[0].Rounds != 1 {
		t.Errorf("one round: %+v", m)
	}
	if m := medianRows([]statefulRow{{Server: "signet", PerSecond: 1}}); len(m) != 0 {
		t.Errorf("rows of a run of one round (round 0) are not rounds: %+v", m)
	}
}

// TestStatefulChecksOnMedians: with rounds, --check evaluates each target
// on the medians of the rounds, not on one round's windows, and prints
// each peer ratio within each round. Here the peer had one fast round:
// the medians pass where that round alone fails.
func TestStatefulChecksOnMedians(t *testing.T) {
	var rows []statefulRow
	add := func(round int, server, store, flow string, perSecond float64) {
		rows = append(rows, statefulRow{Round: round, Server: server, Cores: 1, Store: store, Flow: flow, PerSecond: perSecond, P50Ms: 10, P99Ms: 20, RSSStartMiB: 50, RSSEndMiB: 50})
	}
	for k, peer := range []float64{565, 374, 403} {
		add(k+1, "signet", "sqlite", "signin", 750)
		add(k+1, "oidc-provider", "memory", "signin", peer)
	}
	rows = append(rows, medianRows(rows)...)
	got := map[string]statefulTarget{}
	for _, tg := range statefulTargets(rows) {
		got[tg.Name] = tg
	}
	tg := got["signin sqlite / oidc-provider"]
	if tg.Value != 750.0/403 || !tg.pass() || !tg.Between {
		t.Errorf("signin sqlite / oidc-provider on the medians: %+v; want 750/403, PASS", tg)
	}
	if tg := got["p99/p50 signin sqlite"]; tg.Value != 2 || tg.Between {
		t.Errorf("p99/p50: %+v", tg)
	}
	var b strings.Builder
	writeStatefulChecks(&b, rows, "10s")
	out := b.String()
	for _, s := range []string{
		fmt.Sprintf("check %-36s %8.2f (want ≥ 1.50) PASS (medians of 3 rounds)", "signin sqlite / oidc-provider", 750.0/403),
		"within each round: round 1 1.33, round 2 2.01, round 3 1.86",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q in:\n%s", s, out)
		}
	}
	if strings.Count(out, "within each round") != 1 {
		t.Errorf("per-round ratios for targets that are not between two windows (or none):\n%s", out)
	}
	// The rounds table gives each round's rate beside the medians.
	b.Reset()
	writeRounds(&b, rows)
	if s := "round 1-core oidc-provider memory signin: round 1 565 (10.00/20.00), round 2 374 (10.00/20.00), round 3 403 (10.00/20.00)"; !strings.Contains(b.String(), s) {
		t.Errorf("no %q in:\n%s", s, b.String())
	}
}

// TestStatefulRoundsFlag: --rounds is from 1 to 100, with a clear error.
func TestStatefulRoundsFlag(t *testing.T) {
	for _, v := range []string{"0", "-1", "101"} {
		var stderr strings.Builder
		if code := statefulMain([]string{"--rounds", v}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "--rounds: "+v+" is not from 1 to 100") {
			t.Errorf("--rounds %s: exit %d, %q", v, code, stderr.String())
		}
	}
}

// TestServerVariant: --server-variant names a server signet+NAME with
// environment of its own, and refuses what is not NAME:KEY=VALUE,...
func TestServerVariant(t *testing.T) {
	b, err := parseVariant("gomaxprocs2:GOMAXPROCS=2,GOGC=800")
	if err != nil || b.name != "signet+gomaxprocs2" || !slices.Equal(b.env, []string{"GOMAXPROCS=2", "GOGC=800"}) {
		t.Errorf("parseVariant: %+v, %v", b, err)
	}
	for _, v := range []string{"", "x", "x:", ":A=1", "x:A", "x:A=1,=2", "a b:A=1"} {
		if _, err := parseVariant(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
	var stderr strings.Builder
	if code := statefulMain([]string{"--server-variant", "x:A"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "is not KEY=VALUE") {
		t.Errorf("--server-variant x:A: exit %d, %q", code, stderr.String())
	}
}
