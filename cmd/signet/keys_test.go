package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/config"
)

// fetch returns the body of a GET.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventually polls cond until it holds or 15 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// The keys commands work beside a running server: export-jwks prints the
// bytes it serves, and rotate and revoke reach it through the store.
func TestKeysCommandsReachRunningServer(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement: { signingAlgorithms: [ ES256 ] }
`)
	in := startServe(t, serveOptions{configPath: cfg}, nil)

	code, out, errs := runCLI(t, "", nil, "keys", "export-jwks", "--config", cfg)
	if code != 0 || errs != "" {
		t.Fatalf("export-jwks: %d %s", code, errs)
	}
	if served := fetch(t, in.jwksURL()); !bytes.Equal([]byte(out), served) {
		t.Fatalf("export-jwks printed\n%s\nthe server serves\n%s", out, served)
	}
	before := jwksKids(t, in.jwksURL())
	if len(before) != 1 {
		t.Fatalf("JWKS %v", before)
	}

	code, out, errs = runCLI(t, "", nil, "keys", "rotate", "--config", cfg, "--now")
	if code != 0 || !strings.Contains(errs, "warning: the new key signs at once") {
		t.Fatalf("rotate --now: %d %s %s", code, out, errs)
	}
	eventually(t, "the server publishes the rotated key", func() bool { return len(jwksKids(t, in.jwksURL())) == 2 })
	// The server logs what the CLI did through the store: the new key
	// with its algorithm and times, and the old key's retirement.
	var rotated string
	for _, k := range jwksKids(t, in.jwksURL()) {
		if k != before[0] {
			rotated = k
		}
	}
	eventually(t, "the server logs the rotation made by the CLI", func() bool {
		logs := in.logs.String()
		return strings.Contains(logs, `msg="key created by another process, activated" kid=`+rotated+` alg=ES256 state=active created=`) &&
			strings.Contains(logs, `msg="key retired" kid=`+before[0]+` alg=ES256 state=retired`)
	})

	code, out, errs = runCLI(t, "", nil, "keys", "revoke", "--config", cfg, "--yes", before[0])
	if code != 0 || !strings.Contains(out, "revoked ES256 key "+before[0]) {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	eventually(t, "the server unpublishes the revoked key", func() bool {
		kids := jwksKids(t, in.jwksURL())
		return len(kids) == 1 && !slices.Contains(kids, before[0])
	})
	eventually(t, "the server logs the revocation made by the CLI", func() bool {
		return strings.Contains(in.logs.String(), `msg="key revoked" kid=`+before[0]+` alg=ES256 state=revoked`)
	})
	eventually(t, "export-jwks and the server agree", func() bool {
		_, out, _ := runCLI(t, "", nil, "keys", "export-jwks", "--config", cfg)
		return bytes.Equal([]byte(out), fetch(t, in.jwksURL()))
	})

	// list --json is an array of objects with exactly the documented fields.
	code, out, _ = runCLI(t, "", nil, "keys", "list", "--config", cfg, "--json")
	var keys []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &keys) != nil || len(keys) != 2 {
		t.Fatalf("list --json: %d %s", code, out)
	}
	for _, k := range keys {
		var names []string
		for n := range k {
			names = append(names, n)
		}
		slices.Sort(names)
		if want := []string{"alg", "backend", "created", "deleteAfter", "kid", "retiresAt", "signsFrom", "state", "x509"}; !slices.Equal(names, want) {
			t.Errorf("fields %v, want %v", names, want)
		}
	}
}

// Second-long lifetimes start only with --unsafe-timing, which logs each
// broken rule at Warn.
func TestServeUnsafeTiming(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: memory }
keyManagement: { rotationInterval: 3s, propagationTime: 1s, retentionDuration: 2s, signingAlgorithms: [ ES256 ] }
`)
	code, _, errs := runCLI(t, "", nil, "serve", "--config", cfg)
	if code != 1 || !strings.Contains(errs, "breaks 2 timing rule(s)") || strings.Contains(errs, "signet started") {
		t.Fatalf("serve without --unsafe-timing: exit %d\n%s", code, errs)
	}
	in := startServe(t, serveOptions{configPath: cfg, unsafeTiming: true}, nil)
	in.stop(t)
	if logs := in.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "allowed by --unsafe-timing") ||
		!strings.Contains(logs, `rule="keyManagement.propagationTime > relyingPartyCache + jwksMaxAge + keyCacheDuration"`) {
		t.Errorf("no warning for the broken rule:\n%s", logs)
	}
}

// serve --dev needs no flag: its embedded configuration keeps every rule.
func TestDevConfigKeepsTimingRules(t *testing.T) {
	vars := map[string]string{"SIGNET_DEV_ISSUER": "http://127.0.0.1:8080", "SIGNET_DEV_CLIENT_SECRET_HASH": "plain:dev-secret-0123456789"}
	cfg, err := config.Parse(devYAML, config.ParseOptions{LookupEnv: func(n string) (string, bool) { v, ok := vars[n]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.CheckTiming(); len(v) != 0 {
		t.Fatalf("the dev configuration breaks %v", v)
	}
}

// A reload whose clients would outlive the retention is refused; the
// running configuration stays.
func TestReloadRefusesBrokenTiming(t *testing.T) {
	dir := t.TempDir()
	base := "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256], retentionDuration: 2h }\n"
	cfg := writeFile(t, dir, "signet.yaml", base+clientsYAML("ES256"))
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	writeFile(t, dir, "signet.yaml", base+strings.Replace(clientsYAML("ES256"), "accessTokenLifetime: 10m", "accessTokenLifetime: 3h", 1))
	in.reload <- syscall.SIGHUP
	eventually(t, "the reload is refused", func() bool { return strings.Contains(in.logs.String(), "reload failed") })
	if logs := in.logs.String(); !strings.Contains(logs, "retentionDuration 2h <= 3h (clients[billing].accessTokenLifetime)") {
		t.Errorf("the refusal does not name the rule:\n%s", logs)
	}
	if _, err := in.token(context.Background(), "billing", testSecret, oauth2.AuthStyleInHeader, []string{"orders.read"}, nil); err != nil {
		t.Errorf("the running clients were dropped: %v", err)
	}
}

// Every `signet keys status` sample of docs/migrating-from-static-keys.md
// is an output the status script checks, verbatim.
func TestMigrationDocStatusSamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/migrating-from-static-keys.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/script/keys_status.txtar")
	if err != nil {
		t.Fatal(err)
	}
	samples := regexp.MustCompile("(?s)```\n\\$ signet keys status --config signet.yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(samples) < 4 {
		t.Fatalf("found %d status samples in the doc", len(samples))
	}
	for _, s := range samples {
		if !strings.Contains(string(script), " --\n"+s[1]+"-- ") {
			t.Errorf("the doc's sample is not an output of testdata/script/keys_status.txtar:\n%s", s[1])
		}
	}
}

// The timeline sample of docs/key-management.md is the output the
// timeline script checks.
func TestKeyManagementDocTimelineSample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/key-management.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/script/keys_timeline.txtar")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```\n\\$ signet keys timeline --config signet.yaml\n(.*?)```").FindStringSubmatch(string(doc))
	if m == nil {
		t.Fatal("no timeline sample in the doc")
	}
	if !strings.HasSuffix(string(script), "-- timeline.txt --\n"+m[1]) {
		t.Errorf("the doc's sample is not the output of testdata/script/keys_timeline.txtar:\n%s", m[1])
	}
}

// Every metric docs/operations.md names is one the server (or serve's
// store collector) defines.
func TestOperationsDocMetricNames(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../server/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	store, err := os.ReadFile("storemetrics.go") // the store's write counters
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, store...)
	names := regexp.MustCompile(`\bsignet_[a-z_]+`).FindAllString(string(doc), -1)
	if len(names) < 8 {
		t.Fatalf("found %d metric names in the doc", len(names))
	}
	for _, n := range names {
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !strings.Contains(string(src), `"`+base+`"`) {
			t.Errorf("docs/operations.md names %s, which neither server/metrics.go nor storemetrics.go defines", n)
		}
	}
}
