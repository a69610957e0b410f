package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/oauth2/clientcredentials"
)

// buildBinary builds cmd/signet once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "signet-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "signet")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestMain also makes the test binary the "signet" command of the
// testscript scripts (script_test.go).
func TestMain(m *testing.M) {
	testscript.Main(removeBinaryAfter{m}, scriptCommands)
}

type removeBinaryAfter struct{ m *testing.M }

func (r removeBinaryAfter) Run() int {
	code := r.m.Run()
	if bin, err := buildBinary(); err == nil && strings.Contains(bin, "signet-bin-") {
		os.RemoveAll(filepath.Dir(bin))
	}
	return code
}

// process is the built binary running serve.
type process struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
}

func startBinary(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary(t), args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Env = append(os.Environ(), "SIGNET_KEY_SECRET=binary-test-protection-secret")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// addr waits for the JSON "signet started" log line and returns its addr.
func (p *process) addr(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "signet started" {
				return line.Addr
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("signet exited early: %v\n%s", err, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("signet did not start:\n%s", p.stderr)
	return ""
}

// terminate sends SIGTERM and returns the exit code.
func (p *process) terminate(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("signet did not exit after SIGTERM:\n%s", p.stderr)
	}
	return -1
}

// TestBinaryServe builds the binary, runs serve with a configuration file,
// gets and verifies a token, then stops it with SIGTERM (exit code 0).
func TestBinaryServe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "signet.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement:
  signingAlgorithms: [ { name: ES256 } ]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
`+clientsYAML("ES256"))
	p := startBinary(t, dir, "serve", "--config", cfg, "--log-format", "json")
	base := "http://" + p.addr(t)
	ctx := context.Background()

	cc := clientcredentials.Config{ClientID: "billing", ClientSecret: testSecret, TokenURL: base + "/connect/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oidc.NewRemoteKeySet(ctx, base+"/.well-known/openid-configuration/jwks").VerifySignature(ctx, tok.AccessToken); err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", p.stderr)
	}
	// Logs never carry key material or the client secret.
	for _, bad := range []string{"PRIVATE KEY", testSecret, "binary-test-protection-secret", `"d":"`} {
		if strings.Contains(p.stderr.String()+p.stdout.String(), bad) {
			t.Errorf("output contains %q", bad)
		}
	}
}

// TestBinaryDev runs `serve --dev` in an empty directory and follows the
// printed curl line.
func TestBinaryDev(t *testing.T) {
	dir := t.TempDir()
	p := startBinary(t, dir, "serve", "--dev", "--listen", "127.0.0.1:0", "--log-format", "json")
	p.addr(t)
	var line string
	re := regexp.MustCompile(`curl -s -u (\S+):(\S+) -d grant_type=client_credentials (\S+)`)
	for range 100 {
		if line = re.FindString(p.stdout.String()); line != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := re.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no curl line in:\n%s", p.stdout)
	}
	// What the curl line does: Basic credentials, one form parameter.
	req, _ := http.NewRequest("POST", m[3], strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.SetBasicAuth(m[1], m[2])
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"access_token"`) {
		t.Fatalf("the printed curl line fails: %d %s", resp.StatusCode, body)
	}
	if code := p.terminate(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	for _, f := range []string{"signet-data/signet.db", "signet-data/demo-client-secret", "signet-data/signet.db.secret"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}
}
