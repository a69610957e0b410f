package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// skipUnlessHarness skips the tests that run the harness end to end:
// with -short (they build signet and run it for seconds), and when
// taskset is missing or CPUs 0 and 1 are not both available, since the
// harness pins the server and the load to them.
func skipUnlessHarness(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the smoke test builds signet and runs it for a few seconds")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset (util-linux) is missing: the harness pins its processes with it")
	}
	if err := checkMachine(); err != nil {
		t.Skipf("the harness cannot run here: %v", err)
	}
}

// TestSmoke runs the harness end to end, briefly: it builds this command,
// which builds signet, and measures one algorithm with sub-second windows,
// then checks the shape of the JSON report and that the table prints it.
// The numbers of so short a run mean nothing. Skipped with -short, and
// when taskset is missing or CPUs 0 and 1 are not both available, since
// the harness pins the server and the load to them.
func TestSmoke(t *testing.T) {
	skipUnlessHarness(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "bench")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin, "--algs", "EdDSA", "--duration", "600ms", "--warmup", "200ms", "--raw", "400ms",
		"--connections", "4", "--quiet-wait", "0", "--retries", "0", "--json")
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

	if rep.Machine.CPUs < 2 || rep.Machine.Go == "" || rep.Settings.Connections != 4 {
		t.Errorf("machine/settings: %+v %+v", rep.Machine, rep.Settings)
	}
	if b := rep.Baseline; b == nil || b.PerSecond <= 0 || b.Requests <= 0 || b.BodyBytes <= 0 || b.P99us < b.P50us {
		t.Errorf("floor: %+v", b)
	}
	if len(rep.Algorithms) != 1 {
		t.Fatalf("%d algorithm rows; want 1 (EdDSA)", len(rep.Algorithms))
	}
	a := rep.Algorithms[0]
	if a.Alg != "EdDSA" || a.Tokens == nil || a.Tokens.PerSecond <= 0 || a.Tokens.Errors != 0 || a.RawPerSecond <= 0 || a.Ratio <= 0 || a.Tokens.P50us <= 0 {
		t.Errorf("EdDSA row: %+v tokens %+v", a, a.Tokens)
	}
	if j := rep.JWKS; j == nil || j.OK == nil || j.NotModified == nil || j.OK.PerSecond <= 0 || j.NotModified.PerSecond <= 0 || j.OK.Errors+j.NotModified.Errors != 0 {
		t.Errorf("JWKS: %+v", j)
	}
	for _, m := range []*modeResult{rep.PrivateKeyJWT, rep.DPoP} {
		if m == nil || m.Tokens == nil || m.Tokens.PerSecond <= 0 || m.Tokens.Errors != 0 || m.ES256VerifyUs <= 0 || m.AllowanceUs <= m.ES256VerifyUs || m.SecretPerSecond <= 0 {
			t.Errorf("client authentication mode: %+v", m)
		}
	}
	var names []string
	for _, tg := range rep.Targets {
		names = append(names, tg.Name)
	}
	for _, want := range []string{"EdDSA overhead / HTTP floor per request", "JWKS 200 rate / HTTP floor rate", "JWKS 304 rate / HTTP floor rate",
		"private_key_jwt extra µs / (ES256 verify + 20% floor)", "dpop extra µs / (ES256 verify + 20% floor)"} {
		if !slices.Contains(names, want) {
			t.Errorf("targets %q lack %q", names, want)
		}
	}

	var table bytes.Buffer
	if err := rep.writeTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"EdDSA", "floor", "JWKS 200", "JWKS 304", "Targets:", "OVERHEAD/FLOOR", "private_key_jwt", "dpop", "ALLOWANCE"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
}
