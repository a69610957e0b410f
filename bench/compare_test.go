package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCompareWindows: the rounds alternate which binary goes first.
func TestCompareWindows(t *testing.T) {
	got := compareWindows(3)
	want := []bool{true, false, false, true, true, false}
	if !slices.Equal(got, want) {
		t.Errorf("compareWindows(3) = %v; want %v", got, want)
	}
}

// TestCompareRow: the ratio is over all rounds (requests over time
// summed), each round's ratio is kept, and the CPU per token is the
// server's CPU share times the window over the answers.
func TestCompareRow(t *testing.T) {
	win := func(n int64, secs, cpu float64) *loadResult {
		return &loadResult{Requests: n, Elapsed: time.Duration(secs * float64(time.Second)), Hist: &histogram{}, CPU: cpuShares{server: cpu}}
	}
	as := []*loadResult{win(1000, 1, 1), win(3000, 1, 1)}
	bs := []*loadResult{win(2000, 1, 1), win(2000, 1, 0.5)}
	row := newCompareRow("ES256", as, bs)
	if row.Ratio != 1 { // 4000/2s over 4000/2s
		t.Errorf("ratio %v; want 1", row.Ratio)
	}
	if !slices.Equal(row.RoundRatios, []float64{0.5, 1.5}) {
		t.Errorf("round ratios %v; want [0.5 1.5]", row.RoundRatios)
	}
	if row.ACPUus != 500 || row.BCPUus != 375 || row.CPURatio != 0.75 {
		t.Errorf("CPU µs/token A %v B %v ratio %v; want 500, 375, 0.75", row.ACPUus, row.BCPUus, row.CPURatio)
	}
	rep := &report{Compare: &compareResult{A: "/a", B: "/b", Rounds: 2, Rows: []compareRow{row}}}
	rep.evaluate()
	if len(rep.Targets) != 1 || !rep.Targets[0].Pass || !rep.Pass {
		t.Errorf("targets %+v; want the A/B ratio 1 to pass", rep.Targets)
	}
	slow := newCompareRow("ES256", []*loadResult{win(960, 1, 1)}, []*loadResult{win(1000, 1, 1)})
	rep = &report{Compare: &compareResult{Rounds: 1, Rows: []compareRow{slow}}}
	rep.evaluate()
	if rep.Pass {
		t.Errorf("A 4 %% slower than B passed: %+v", rep.Targets)
	}
	var out strings.Builder
	if err := rep.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Comparison, 1 rounds", "0.9600", "FAIL", "tokens/s A / B (--compare)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

// TestCompareOptions: --compare refuses what it does not measure.
func TestCompareOptions(t *testing.T) {
	for _, args := range [][]string{
		{"--compare", "x", "--rotate"},
		{"--compare", "x", "--tokens", "10"},
		{"--compare", "x", "--tags", "openssl"},
		{"--rounds", "0"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	o, err := parseOptions([]string{"--compare", "x", "--rounds", "4"}, io.Discard)
	if err != nil || o.compare != "x" || o.rounds != 4 {
		t.Errorf("--compare x --rounds 4: %+v, %v", o, err)
	}
}

// TestCompareSmoke runs --compare end to end with one signet binary as A
// and B, briefly (the numbers mean nothing), and checks the report's
// shape. Skipped like TestSmoke.
func TestCompareSmoke(t *testing.T) {
	skipUnlessHarness(t)
	// Two builds: minutes on a busy machine.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, signet := filepath.Join(dir, "bench"), filepath.Join(dir, "signet")
	for _, b := range [][]string{{"build", "-o", bin, "."}, {"build", "-o", signet, "../cmd/signet"}} {
		if out, err := exec.CommandContext(ctx, "go", b...).CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", b, err, out)
		}
	}
	cmd := exec.CommandContext(ctx, bin, "--signet", signet, "--compare", signet, "--rounds", "2", "--algs", "EdDSA",
		"--duration", "300ms", "--warmup", "100ms", "--connections", "4", "--quiet-wait", "0", "--retries", "0", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	var rep report
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("the report is not JSON of the report's shape: %v", err)
	}
	c := rep.Compare
	if c == nil || c.Rounds != 2 || len(c.Rows) != 1 || c.A != signet || c.B != signet {
		t.Fatalf("compare: %+v", c)
	}
	x := c.Rows[0]
	if x.Alg != "EdDSA" || x.A.PerSecond <= 0 || x.B.PerSecond <= 0 || x.Ratio <= 0 || len(x.RoundRatios) != 2 || x.A.Errors+x.B.Errors != 0 {
		t.Errorf("row: %+v", x)
	}
	if rep.Baseline != nil || len(rep.Algorithms) != 0 {
		t.Errorf("--compare measured more than the token rates: %+v %+v", rep.Baseline, rep.Algorithms)
	}
	if !strings.Contains(stderr.String(), "EdDSA round 2/2") {
		t.Errorf("no progress per round:\n%s", stderr.String())
	}
}
