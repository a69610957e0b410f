package main

import (
	"fmt"
	"io"
	"strings"
)

// The targets of issue 20 (point 3), checked by `bench stateful --check`
// from the rows of one run: every ratio is between two rows of that run,
// measured on the same core (cores 1, server "signet"). With --rounds N,
// the rows are the medians of the rounds (medianRows), and each ratio
// between two windows is also given within each round.

// statefulTarget is one target and how it came out.
type statefulTarget struct {
	Name    string  // e.g. "refresh sqlite / tmpfs"
	Value   float64 // the ratio measured
	Want    float64 // the bound
	AtMost  bool    // Value must be ≤ Want (else ≥)
	Missing string  // why it could not be checked ("": checked)
	// Between: Value is a ratio of two rows' rates (two windows), which
	// --rounds also gives within each round.
	Between bool
}

func (t statefulTarget) pass() bool {
	if t.Missing != "" {
		return false
	}
	if t.AtMost {
		return t.Value <= t.Want
	}
	return t.Value >= t.Want
}

// rssFlatFactor: RSS is flat over a refresh window when it ends at most
// this factor above where it started.
const rssFlatFactor = 1.10

// statefulTargets computes the targets from rows: the medians of the
// rounds, or the rows of a run of one round (those with Round 0).
func statefulTargets(rows []statefulRow) []statefulTarget {
	find := func(server, store, flow string) (statefulRow, bool) {
		for _, r := range rows {
			if r.Round == 0 && r.Cores == 1 && r.Server == server && r.Store == store && r.Flow == flow && r.Error == "" && r.PerSecond > 0 {
				return r, true
			}
		}
		return statefulRow{}, false
	}
	var out []statefulTarget
	ratio := func(name string, a, b statefulRow, aok, bok bool, want float64) {
		t := statefulTarget{Name: name, Want: want, Between: true}
		switch {
		case !aok:
			t.Missing = fmt.Sprintf("no %s %s %s row", a.Server, a.Store, a.Flow)
		case !bok:
			t.Missing = fmt.Sprintf("no %s %s %s row", b.Server, b.Store, b.Flow)
		default:
			t.Value = a.PerSecond / b.PerSecond
		}
		out = append(out, t)
	}
	lookup := func(server, store, flow string) (statefulRow, bool) {
		r, ok := find(server, store, flow)
		if !ok {
			r.Server, r.Store, r.Flow = server, store, flow
		}
		return r, ok
	}
	sq, sqok := lookup("signet", "sqlite", "refresh")
	tf, tfok := lookup("signet", "tmpfs", "refresh")
	ratio("refresh sqlite / tmpfs", sq, tf, sqok, tfok, 0.75)
	for _, f := range []struct {
		flow string
		want float64
	}{{"refresh", 1.3}, {"signin", 1.5}, {"introspect", 1.2}} {
		peer, pok := lookup("oidc-provider", "memory", f.flow)
		for _, store := range []string{"sqlite", "postgres"} {
			r, ok := lookup("signet", store, f.flow)
			ratio(fmt.Sprintf("%s %s / oidc-provider", f.flow, store), r, peer, ok, pok, f.want)
		}
	}
	for _, store := range []string{"sqlite", "postgres"} {
		for _, flow := range []string{"refresh", "signin", "introspect"} {
			r, ok := lookup("signet", store, flow)
			t := statefulTarget{Name: fmt.Sprintf("p99/p50 %s %s", flow, store), Want: 3, AtMost: true}
			if ok && r.P50Ms > 0 {
				t.Value = r.P99Ms / r.P50Ms
			} else {
				t.Missing = "no row"
			}
			out = append(out, t)
		}
		r, ok := lookup("signet", store, "refresh")
		t := statefulTarget{Name: "RSS end/start refresh " + store, Want: rssFlatFactor, AtMost: true}
		if ok && r.RSSStartMiB > 0 {
			t.Value = r.RSSEndMiB / r.RSSStartMiB
		} else {
			t.Missing = "no row"
		}
		out = append(out, t)
	}
	return out
}

// writeStatefulChecks prints each target, its value and PASS or FAIL, and
// returns whether all passed. With more than one round, the targets are
// evaluated on the medians, and each ratio between two windows is
// followed by its value within each round (both windows of that round).
func writeStatefulChecks(w io.Writer, rows []statefulRow, duration string) bool {
	n := roundCount(rows)
	var rounds []map[string]statefulTarget // [k-1]: round k's targets by name
	for k := 1; n > 1 && k <= n; k++ {
		byName := map[string]statefulTarget{}
		rr := roundRows(rows, k)
		for i := range rr {
			rr[i].Round = 0 // statefulTargets reads rows of Round 0
		}
		for _, t := range statefulTargets(rr) {
			byName[t.Name] = t
		}
		rounds = append(rounds, byName)
	}
	all := true
	for _, t := range statefulTargets(rows) {
		op := "≥"
		if t.AtMost {
			op = "≤"
		}
		verdict := "PASS"
		if !t.pass() {
			verdict, all = "FAIL", false
		}
		what := ""
		if n > 1 {
			what = fmt.Sprintf(" (medians of %d rounds)", n)
		}
		if t.Missing != "" {
			fmt.Fprintf(w, "check %-36s %8s (want %s %.2f) %s: %s\n", t.Name, "-", op, t.Want, verdict, t.Missing)
			continue
		}
		fmt.Fprintf(w, "check %-36s %8.2f (want %s %.2f) %s%s\n", t.Name, t.Value, op, t.Want, verdict, what)
		if !t.Between || len(rounds) == 0 {
			continue
		}
		var parts []string
		for k, byName := range rounds {
			s := "-"
			if rt, ok := byName[t.Name]; ok && rt.Missing == "" {
				s = fmt.Sprintf("%.2f", rt.Value)
			}
			parts = append(parts, fmt.Sprintf("round %d %s", k+1, s))
		}
		fmt.Fprintf(w, "      within each round: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "check: the RSS target needs a 10-minute refresh window (--duration 10m); this window was %s\n", duration)
	return all
}
