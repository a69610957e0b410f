package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestServeEndToEnd starts the server from a configuration file and uses
// independent client code: golang.org/x/oauth2 gets tokens, go-oidc
// (discovery + remote JWKS) verifies them.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeFile(t, dir, "signet.yaml", fmt.Sprintf(`
issuer: http://%s
listen: %s
adminListen: 127.0.0.1:0
storage: { driver: file }
keyManagement:
  signingAlgorithms: [ { name: ES256 }, { name: EdDSA, x509: true } ]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
  keyPath: ./keys
`, addr, addr)+clientsYAML("EdDSA"))
	in := startServe(t, serveOptions{configPath: cfg}, map[string]string{"SIGNET_KEY_SECRET": "an-e2e-protection-secret-of-some-length"})
	ctx := context.Background()

	provider, err := oidc.NewProvider(ctx, in.issuer)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		style    oauth2.AuthStyle
		scopes   []string
		params   url.Values
		aud      string
		wantAlg  string
		wantScop string
	}{
		{"basic, one resource by scope", oauth2.AuthStyleInHeader, []string{"orders.read"}, nil, "orders", "ES256", "orders.read"},
		{"post, resource parameter", oauth2.AuthStyleInParams, nil, url.Values{"resource": {"ledger"}}, "ledger", "EdDSA", "ledger.read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := in.token(ctx, "billing", testSecret, tc.style, tc.scopes, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			v := provider.VerifierContext(ctx, &oidc.Config{ClientID: tc.aud})
			idt, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatalf("go-oidc rejects the token: %v", err)
			}
			var c tokenClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if c.Sub != "billing" || c.ClientID != "billing" || c.Scope != tc.wantScop || idt.Issuer != in.issuer {
				t.Errorf("claims %+v, issuer %s", c, idt.Issuer)
			}
			if !strings.Contains(tok[:10], "") || algOf(t, tok) != tc.wantAlg {
				t.Errorf("alg = %s, want %s", algOf(t, tok), tc.wantAlg)
			}
		})
	}

	// Wrong secret: oauth2 surfaces the RFC 6749 error.
	_, err = in.token(ctx, "billing", "wrong", oauth2.AuthStyleInHeader, nil, nil)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Errorf("wrong secret: %v", err)
	}

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 404, "admin /healthz": 200, "admin /readyz": 200, "admin /metrics": 200} {
		base := in.base
		if p, ok := strings.CutPrefix(path, "admin "); ok {
			base, path = "http://"+in.adminAddr, p
		}
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && want == 200 && (!strings.Contains(string(body), `signet_tokens_issued_total{algorithm="EdDSA",grant_type="client_credentials"} 1`) ||
			!strings.Contains(string(body), `signet_build_info{backend="`+metricsBuildInfo().Backend+`",revision=`)) {
			t.Errorf("metrics lack the EdDSA token or the build info:\n%s", body)
		}
	}
	// The file store holds sealed keys only: no PEM, no private JWK.
	entries, _ := os.ReadDir(dir + "/keys")
	for _, e := range entries {
		b, _ := os.ReadFile(dir + "/keys/" + e.Name())
		if strings.Contains(string(b), "PRIVATE KEY") {
			t.Errorf("%s holds a plain private key", e.Name())
		}
	}
}

func algOf(t *testing.T, token string) string {
	t.Helper()
	kidOf(t, token) // checks typ
	h, _, _ := strings.Cut(token, ".")
	switch {
	case strings.HasPrefix(h, "eyJhbGciOiJFUzI1NiI"):
		return "ES256"
	case strings.HasPrefix(h, "eyJhbGciOiJFZERTQSI"):
		return "EdDSA"
	case strings.HasPrefix(h, "eyJhbGciOiJSUzI1NiI"):
		return "RS256"
	}
	return "?"
}

// TestRotationContinuous runs with second-long key lifetimes and fetches
// and verifies tokens continuously across at least two rotations: every
// token must verify against the live JWKS, as a relying party that
// refetches on an unknown kid sees it.
func TestRotationContinuous(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement:
  rotationInterval: 3s
  propagationTime: 1s
  retentionDuration: 2s
  signingAlgorithms: [ ES256 ]
`+clientsYAML("ES256"))
	// Second-long lifetimes break the timing rules on purpose.
	in := startServe(t, serveOptions{configPath: cfg, unsafeTiming: true}, nil)
	ctx := context.Background()
	ks := oidc.NewRemoteKeySet(ctx, in.jwksURL())

	const run = 7500 * time.Millisecond // key 1 signs 0-3s, key 2 3-6s, key 3 from 6s
	deadline := time.Now().Add(run)
	var (
		mu       sync.Mutex
		kids     []string
		issued   int
		failures []string
	)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				tok, err := in.token(ctx, "billing", testSecret, oauth2.AuthStyleInHeader, []string{"orders.read"}, nil)
				if err == nil {
					_, err = verifyWith(ctx, ks, tok)
				}
				mu.Lock()
				issued++
				if err != nil {
					failures = append(failures, fmt.Sprintf("worker %d at %s: %v", w, time.Now().Format("15:04:05.000"), err))
				} else if k := kidOf(t, tok); !slices.Contains(kids, k) {
					kids = append(kids, k)
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d tokens failed:\n%s", len(failures), issued, strings.Join(failures, "\n"))
	}
	if len(kids) < 3 {
		t.Errorf("tokens were signed by %d keys %v; want at least 3 (two rotations)", len(kids), kids)
	}
	t.Logf("%d tokens, signed by %d keys", issued, len(kids))
}

// TestMigrationPhases runs the seed's three phases by editing the
// configuration and restarting, and checks that a token from each phase
// still verifies in the next.
func TestMigrationPhases(t *testing.T) {
	dir := t.TempDir()
	writeECKey(t, dir, "old.pem")
	common := `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement:
  signingAlgorithms: [ ES256 ]
`
	phases := []string{
		common + "signingCredential: { file: old.pem, algorithm: ES256, kid: old-static }\n",
		common + "validationKeys: [ { file: old.pem, algorithm: ES256, kid: old-static } ]\n",
		common,
	}
	ctx := context.Background()
	var prev string // the previous phase's token
	var tokensByPhase []string
	for i, phase := range phases {
		cfg := writeFile(t, dir, "signet.yaml", phase+clientsYAML("ES256"))
		in := startServe(t, serveOptions{configPath: cfg}, nil)
		ks := oidc.NewRemoteKeySet(ctx, in.jwksURL())
		kids := jwksKids(t, in.jwksURL())

		if prev != "" {
			if _, err := verifyWith(ctx, ks, prev); err != nil {
				t.Errorf("phase %d: the token of phase %d no longer verifies: %v (JWKS %v)", i+1, i, err, kids)
			}
		}
		tok, err := in.token(ctx, "billing", testSecret, oauth2.AuthStyleInHeader, []string{"orders.read"}, nil)
		if err != nil {
			t.Fatalf("phase %d: %v", i+1, err)
		}
		if _, err := verifyWith(ctx, ks, tok); err != nil {
			t.Errorf("phase %d: its own token does not verify: %v", i+1, err)
		}
		kid := kidOf(t, tok)
		switch i {
		case 0: // static signs; a managed key is announced beside it
			if kid != "old-static" || len(kids) != 2 || !slices.Contains(kids, "old-static") {
				t.Errorf("phase 1: signed by %s, JWKS %v; want old-static signing and one managed key announced", kid, kids)
			}
		case 1: // the managed key signs; the old key is still published
			if kid == "old-static" || !slices.Contains(kids, "old-static") || !slices.Contains(kids, kid) {
				t.Errorf("phase 2: signed by %s, JWKS %v", kid, kids)
			}
		case 2: // the old key is gone
			if slices.Contains(kids, "old-static") || !slices.Contains(kids, kid) {
				t.Errorf("phase 3: signed by %s, JWKS %v", kid, kids)
			}
			first := tokensByPhase[0]
			if _, err := verifyWith(ctx, ks, first); err == nil {
				t.Errorf("phase 3: the static key's token still verifies; the old key should be gone")
			}
		}
		// The logs tell each phase, never show the managed key active
		// while the static key signs, and warn about steps taken too
		// early (here each phase follows the last at once).
		logs := in.logs.String()
		switch i {
		case 0:
			if !strings.Contains(logs, `msg="key activated, on standby: announced; the static credential signs" kid=`) || strings.Contains(logs, "state=active") {
				t.Errorf("phase 1: the managed key is not logged on standby:\n%s", logs)
			}
		case 1:
			if !strings.Contains(logs, "migration phase 2") || !strings.Contains(logs, `level=WARN msg="migration step taken too early: phase 2 began at`) {
				t.Errorf("phase 2: no warning that phase 2 began before it was safe:\n%s", logs)
			}
		case 2:
			if !strings.Contains(logs, `msg="migration phase 3: managed keys only, the old key is no longer published"`) || !strings.Contains(logs, `level=WARN msg="migration step taken too early: the old key was dropped early`) {
				t.Errorf("phase 3: not logged like the other phases, or no warning:\n%s", logs)
			}
		}
		tokensByPhase = append(tokensByPhase, tok)
		prev = tok
		in.stop(t)
	}
}

// TestReloadOnSIGHUP swaps clients without a restart.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	base := "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256] }\n"
	cfg := writeFile(t, dir, "signet.yaml", base+clientsYAML("ES256"))
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	ctx := context.Background()
	if _, err := in.token(ctx, "newcomer", "newcomer-secret-123", oauth2.AuthStyleInHeader, nil, nil); err == nil {
		t.Fatal("unknown client got a token")
	}
	writeFile(t, dir, "signet.yaml", base+clientsYAML("ES256")+`
  - clientId: newcomer
    secrets: [ "plain:newcomer-secret-123" ]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [orders.read]
`)
	in.reload <- syscall.SIGHUP
	var err error
	for range 100 {
		if _, err = in.token(ctx, "newcomer", "newcomer-secret-123", oauth2.AuthStyleInHeader, nil, nil); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after SIGHUP the new client gets no token: %v", err)
	}
	// A broken file keeps the running configuration.
	writeFile(t, dir, "signet.yaml", base+"clients: [ { oops: 1 } ]\n")
	in.reload <- syscall.SIGHUP
	for range 100 {
		if strings.Contains(in.logs.String(), "reload failed") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(in.logs.String(), `unknown key \"oops\"`) {
		t.Errorf("the reload error is not logged:\n%s", in.logs)
	}
	if _, err := in.token(ctx, "newcomer", "newcomer-secret-123", oauth2.AuthStyleInHeader, nil, nil); err != nil {
		t.Errorf("a failed reload dropped the running clients: %v", err)
	}
}

// jsonLogLine returns the first JSON log line whose msg starts with msg,
// waiting up to two seconds for it.
func jsonLogLine(t *testing.T, in *instance, msg string) map[string]any {
	t.Helper()
	for range 100 {
		for _, l := range strings.Split(in.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && strings.HasPrefix(fmt.Sprint(m["msg"]), msg) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line %q in:\n%s", msg, in.logs)
	return nil
}

// TestReloadSaysWhatChanged: a SIGHUP reload logs the clients, API
// resources and users added, removed and changed; JSON logs write lists
// as arrays.
func TestReloadSaysWhatChanged(t *testing.T) {
	dir := t.TempDir()
	base := "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256, EdDSA] }\n"
	extra := func(name, lifetime string) string {
		return "  - { clientId: " + name + ", secrets: [ \"plain:" + name + "-secret-0123456789\" ], allowedGrantTypes: [client_credentials], allowedScopes: [orders.read], accessTokenLifetime: " + lifetime + " }\n"
	}
	cfg := writeFile(t, dir, "signet.yaml", base+clientsYAML("ES256")+extra("stays", "10m")+extra("changes", "10m")+extra("goes", "10m"))
	in := startServe(t, serveOptions{configPath: cfg, logFormat: "json", logLevel: "info"}, nil)
	started := jsonLogLine(t, in, "signet started")
	if algs, ok := started["algorithms"].([]any); !ok || len(algs) != 2 || algs[0] != "ES256" || algs[1] != "EdDSA" {
		t.Errorf("algorithms is not a JSON array: %#v", started["algorithms"])
	}
	writeFile(t, dir, "signet.yaml", strings.Replace(base, "issuer: https://signet.test", "issuer: https://other.test", 1)+
		clientsYAML("ES256")+extra("stays", "10m")+extra("changes", "20m")+extra("arrives", "10m"))
	in.reload <- syscall.SIGHUP
	got := jsonLogLine(t, in, "configuration reloaded")
	for key, want := range map[string]string{"clients_added": "[arrives]", "clients_removed": "[goes]", "clients_changed": "[changes]"} {
		if v, ok := got[key].([]any); !ok || fmt.Sprint(v) != want {
			t.Errorf("%s = %#v, want the JSON array %s (line %v)", key, got[key], want, got)
		}
	}
	for _, key := range []string{"api_resources_added", "api_resources_changed", "users_added"} {
		if _, ok := got[key]; ok {
			t.Errorf("%s logged, though no API resource or user changed: %v", key, got)
		}
	}
	if s, ok := jsonLogLine(t, in, "these settings changed")["settings"].([]any); !ok || fmt.Sprint(s) != "[issuer]" {
		t.Errorf("settings is not the JSON array [issuer]: %#v", s)
	}
}
