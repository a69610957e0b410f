package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatefulSmoke runs `bench stateful` briefly with the SQLite store:
// every flow completes without errors, and a refresh leaves no rows
// behind (rows per 1,000 refreshes 0: the family keeps its size), while a
// sign-in does (its session, code and refresh token). The rates of so
// short a run mean nothing. Skipped like TestSmoke.
func TestStatefulSmoke(t *testing.T) {
	rows, stdout := runStatefulBench(t, 3*time.Minute, "--stores", "sqlite", "--rounds", "1", "--duration", "1s", "--warmup", "300ms", "--connections", "4")
	got := map[string]statefulRow{}
	for _, r := range rows {
		if r.Error != "" || r.Errors != 0 || r.PerSecond <= 0 || r.P99Ms < r.P50Ms {
			t.Errorf("row %+v", r)
		}
		got[r.Flow] = r
	}
	if len(got) != 3 {
		t.Fatalf("flows %v, want refresh, signin, introspect\n%s", got, stdout)
	}
	if r := got["refresh"]; r.RowsPer1000 != 0 {
		t.Errorf("refreshes left %v rows per 1,000: families grow", r.RowsPer1000)
	}
	var steps []string
	for _, s := range got["signin"].Steps {
		steps = append(steps, s.Name)
		if s.P50Ms <= 0 || s.P99Ms < s.P50Ms {
			t.Errorf("step %+v", s)
		}
	}
	if strings.Join(steps, ",") != "authorize,login page,login,token" {
		t.Errorf("sign-in steps %v; want authorize, login page, login, token", steps)
	}
	if r := got["signin"]; r.RowsPer1000 < 2000 || r.BytesPer1000 <= 0 {
		t.Errorf("sign-ins: %v rows and %v bytes per 1,000, want about 3,000 rows (session, code, refresh token)", r.RowsPer1000, r.BytesPer1000)
	}
}

// TestStatefulCoresSmoke: `bench stateful --cores 1,2 --openssl` measures
// client_credentials with ES256 and RS256 (each token's alg checked), for
// signet and signet built with -tags openssl, and prints a scaling factor
// for each.
func TestStatefulCoresSmoke(t *testing.T) {
	rows, stdout := runStatefulBench(t, 8*time.Minute, "--stores", "tmpfs", "--flows", "client_credentials,"+flowCCRS256,
		"--cores", "1,2", "--openssl", "--rounds", "1", "--duration", "500ms", "--warmup", "200ms", "--connections", "4")
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Error != "" || r.Errors != 0 || r.PerSecond <= 0 {
			t.Errorf("row %+v", r)
		}
		seen[fmt.Sprint(r.Server, " ", r.Flow, " ", r.Cores)] = true
	}
	for _, server := range []string{"signet", "signet+openssl"} {
		for _, flow := range []string{"client_credentials", flowCCRS256} {
			for _, cores := range []int{1, 2} {
				if !seen[fmt.Sprint(server, " ", flow, " ", cores)] {
					t.Errorf("no row for %s %s on %d cores", server, flow, cores)
				}
			}
			if line := "scaling " + server + " tmpfs " + flow + ": "; !strings.Contains(stdout, line) {
				t.Errorf("no %q line in:\n%s", line, stdout)
			}
		}
	}
}

// TestStatefulRoundsSmoke: `bench stateful --rounds 2` measures each
// store in each round, in the reversed order in the second, and adds one
// median row per store and flow after the rounds' rows.
func TestStatefulRoundsSmoke(t *testing.T) {
	rows, stdout := runStatefulBench(t, 3*time.Minute, "--stores", "sqlite,tmpfs", "--flows", "refresh", "--rounds", "2",
		"--duration", "500ms", "--warmup", "200ms", "--connections", "4")
	var got []string
	for _, r := range rows {
		if r.Error != "" || r.Errors != 0 || r.PerSecond <= 0 {
			t.Errorf("row %+v", r)
		}
		got = append(got, fmt.Sprintf("%d %s %d", r.Round, r.Store, r.Rounds))
	}
	want := []string{"1 sqlite 0", "1 tmpfs 0", "2 tmpfs 0", "2 sqlite 0", "0 sqlite 2", "0 tmpfs 2"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("rows (round store rounds) %v; want %v", got, want)
	}
	for _, s := range []string{"median of 2 rounds", "round 1-core signet sqlite refresh: round 1 "} {
		if !strings.Contains(stdout, s) {
			t.Errorf("no %q in:\n%s", s, stdout)
		}
	}
}

// runStatefulBench builds the benchmark and runs `bench stateful` with
// args, within timeout; it returns the rows and what it printed. It
// skips like TestSmoke where the harness cannot run.
func runStatefulBench(t *testing.T, timeout time.Duration, args ...string) ([]statefulRow, string) {
	t.Helper()
	skipUnlessHarness(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "bench")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(t.TempDir(), "rows.json")
	cmd := exec.CommandContext(ctx, bin, append(append([]string{"stateful"}, args...), "--out", out)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench stateful: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []statefulRow
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	return rows, stdout.String()
}
