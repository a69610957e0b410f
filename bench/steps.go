package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The steps of a sign-in. A sign-in is several HTTP requests (Signet:
// authorize, the login page, the login POST, the code exchange), and its
// p99/p50 is that of their sum. The signin flow times each step, so the
// report says which request the tail comes from: each step's p50 and
// p99, and how the slowest 1 % of sign-ins spent their time.

// stepLaps times the steps of one sign-in: lap ends a step. A nil
// *stepLaps times nothing (the set-up sign-ins).
type stepLaps struct {
	last  time.Time
	names []string
	d     []time.Duration
}

func (s *stepLaps) reset() {
	s.last, s.names, s.d = time.Now(), s.names[:0], s.d[:0]
}

func (s *stepLaps) lap(name string) {
	if s == nil {
		return
	}
	now := time.Now()
	s.names, s.d = append(s.names, name), append(s.d, now.Sub(s.last))
	s.last = now
}

// stepFigure is one step's latency over a window (ms), and its mean in
// the slowest 1 % of sign-ins (those at or above the whole flow's p99).
type stepFigure struct {
	Name     string  `json:"name"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
	MeanMs   float64 `json:"meanMs"`
	TailMs   float64 `json:"tailMeanMs"` // mean in sign-ins at or above the flow's p99
	TailOver float64 `json:"tailOver"`   // TailMs / MeanMs: how much slower in the tail
}

// stepRecorder collects the steps of a window's sign-ins; it is not safe
// for concurrent use (measureFlow holds its lock).
type stepRecorder struct {
	names []string                 // in the order of the first sign-in
	hists map[string]*histogram    // per step
	sums  map[string]time.Duration // per step, for the mean
	all   []sampledSignIn
}

type sampledSignIn struct {
	total time.Duration
	names []string
	d     []time.Duration
}

func (r *stepRecorder) record(total time.Duration, s *stepLaps) {
	if r.hists == nil {
		r.hists, r.sums = map[string]*histogram{}, map[string]time.Duration{}
	}
	for i, n := range s.names {
		h := r.hists[n]
		if h == nil {
			h = &histogram{}
			r.hists[n] = h
			r.names = append(r.names, n)
		}
		h.record(s.d[i])
		r.sums[n] += s.d[i]
	}
	r.all = append(r.all, sampledSignIn{total, slices.Clone(s.names), slices.Clone(s.d)})
}

// figures returns each step's figures, with p99 the whole flow's p99
// (the tail's threshold).
func (r *stepRecorder) figures(p99 time.Duration) []stepFigure {
	tail := map[string]time.Duration{}
	var nTail int
	for _, s := range r.all {
		if s.total < p99 {
			continue
		}
		nTail++
		for i, n := range s.names {
			tail[n] += s.d[i]
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var out []stepFigure
	for _, n := range r.names {
		h := r.hists[n]
		f := stepFigure{Name: n, P50Ms: ms(h.quantile(0.50)), P99Ms: ms(h.quantile(0.99)), MeanMs: ms(r.sums[n] / time.Duration(h.total))}
		if nTail > 0 {
			f.TailMs = ms(tail[n] / time.Duration(nTail))
		}
		if f.MeanMs > 0 {
			f.TailOver = f.TailMs / f.MeanMs
		}
		out = append(out, f)
	}
	return out
}

// writeSteps prints each sign-in row's steps.
func writeSteps(w io.Writer, rows []statefulRow) {
	for _, r := range rows {
		if len(r.Steps) == 0 || r.Error != "" {
			continue
		}
		var parts []string
		for _, s := range r.Steps {
			ratio := 0.0
			if s.P50Ms > 0 {
				ratio = s.P99Ms / s.P50Ms
			}
			parts = append(parts, fmt.Sprintf("%s %.2f/%.2f ms (%.2f), mean %.2f, in the slowest 1%% %.2f (%.1fx)", s.Name, s.P50Ms, s.P99Ms, ratio, s.MeanMs, s.TailMs, s.TailOver))
		}
		fmt.Fprintf(w, "steps %d-core %s %s %s, p50/p99 (p99/p50): %s\n", r.Cores, r.Server, r.Store, r.Flow, strings.Join(parts, "; "))
	}
}
