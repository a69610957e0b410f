package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Rounds of `bench stateful` (--rounds N): each round measures every
// Signet store and the peer, one after another, in an order that is
// reversed every other round (A B, B A, ...: the scheme of --compare,
// compareWindows). The report gives each round's figures and the median
// of the rounds per row, and --check evaluates the targets on the
// medians, so a slower host for a minute moves one round, not the
// ratio.

// defaultStatefulRounds: three rounds, so the median drops one round
// that the machine disturbed (the peer's sign-in rate varied by half
// between runs on a quiet machine: 565, 374, 403/s); two would only
// average it.
const defaultStatefulRounds = 3

// roundOrder returns, for each of rounds rounds, the order in which n
// units are measured: 0..n-1 in even rounds, n-1..0 in odd ones, so that
// no unit is always first or always last.
func roundOrder(rounds, n int) [][]int {
	out := make([][]int, rounds)
	for r := range out {
		for i := range n {
			if r%2 == 0 {
				out[r] = append(out[r], i)
			} else {
				out[r] = append(out[r], n-1-i)
			}
		}
	}
	return out
}

// median is the median of xs (the mean of the middle two for an even
// count; 0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rowKey names a row across rounds.
func rowKey(r statefulRow) string {
	return fmt.Sprintf("%d %s %s %s", r.Cores, r.Server, r.Store, r.Flow)
}

// roundRows are the rows of one round (Round k), or the rows of a run of
// one round (k 0: they carry no round).
func roundRows(rows []statefulRow, k int) []statefulRow {
	var out []statefulRow
	for _, r := range rows {
		if r.Round == k {
			out = append(out, r)
		}
	}
	return out
}

// roundCount is the number of rounds in rows (1: a run of one round).
func roundCount(rows []statefulRow) int {
	n := 1
	for _, r := range rows {
		n = max(n, r.Round)
	}
	return n
}

// medianRows makes, from the rows of rounds 1..N, one row per key (in
// the order the first round measured them, as a run of one round lists
// them) whose figures are the medians of the rounds that measured it
// without an error: rate, p50, p99, rows and bytes per 1,000, RSS, CPU
// per operation, load average. The detail figures (the Go runtime's,
// the store's write counters, PostgreSQL's costs) are those of the round
// whose rate is nearest the median. Errors counts every round's. A key
// that failed in every round keeps the first round's error.
func medianRows(rows []statefulRow) []statefulRow {
	var keys []string
	groups := map[string][]statefulRow{}
	for _, r := range rows {
		if r.Round == 0 {
			continue
		}
		k := rowKey(r)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []statefulRow
	for _, k := range keys {
		g := groups[k]
		var good []statefulRow
		var errs int64
		for _, r := range g {
			errs += r.Errors
			if r.Error == "" {
				good = append(good, r)
			}
		}
		if len(good) == 0 {
			m := g[0]
			m.Round, m.Rounds = 0, len(g)
			out = append(out, m)
			continue
		}
		med := func(f func(statefulRow) float64) float64 {
			var xs []float64
			for _, r := range good {
				xs = append(xs, f(r))
			}
			return median(xs)
		}
		rate := med(func(r statefulRow) float64 { return r.PerSecond })
		m := slices.MinFunc(good, func(a, b statefulRow) int {
			da, db := a.PerSecond-rate, b.PerSecond-rate
			return cmpFloat(da*da, db*db)
		})
		m.Round, m.Rounds, m.Errors = 0, len(g), errs
		m.PerSecond = rate
		m.P50Ms = med(func(r statefulRow) float64 { return r.P50Ms })
		m.P99Ms = med(func(r statefulRow) float64 { return r.P99Ms })
		m.RowsPer1000 = med(func(r statefulRow) float64 { return r.RowsPer1000 })
		m.BytesPer1000 = med(func(r statefulRow) float64 { return r.BytesPer1000 })
		m.Load1 = med(func(r statefulRow) float64 { return r.Load1 })
		m.RSSStartMiB = med(func(r statefulRow) float64 { return r.RSSStartMiB })
		m.RSSEndMiB = med(func(r statefulRow) float64 { return r.RSSEndMiB })
		m.RSSMaxMiB = med(func(r statefulRow) float64 { return r.RSSMaxMiB })
		m.ServerCPUMs = med(func(r statefulRow) float64 { return r.ServerCPUMs })
		m.LoadCPUMs = med(func(r statefulRow) float64 { return r.LoadCPUMs })
		out = append(out, m)
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeRounds prints, for a run of more than one round, each row's rate,
// p50 and p99 in every round, after the table of medians.
func writeRounds(w io.Writer, rows []statefulRow) {
	n := roundCount(rows)
	if n < 2 {
		return
	}
	fmt.Fprintf(w, "rounds: the table above gives the median of %d rounds; each round's per s (p50/p99 ms):\n", n)
	for _, m := range medianRows(rows) {
		var parts []string
		for k := 1; k <= n; k++ {
			s := "-"
			for _, r := range roundRows(rows, k) {
				if rowKey(r) != rowKey(m) {
					continue
				}
				if r.Error != "" {
					s = "error"
				} else {
					s = fmt.Sprintf("%.0f (%.2f/%.2f)", r.PerSecond, r.P50Ms, r.P99Ms)
				}
			}
			parts = append(parts, fmt.Sprintf("round %d %s", k, s))
		}
		fmt.Fprintf(w, "round %d-core %s %s %s: %s\n", m.Cores, m.Server, m.Store, m.Flow, strings.Join(parts, ", "))
	}
}
