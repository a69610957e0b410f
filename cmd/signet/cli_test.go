package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/server"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, stdin string, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		stdin:     strings.NewReader(stdin),
		stdout:    &out,
		stderr:    &errb,
		lookupEnv: func(n string) (string, bool) { v, ok := vars[n]; return v, ok },
	}
	code = run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

func TestHashSecret(t *testing.T) {
	for _, in := range []string{"s3cret", "s3cret\n", "s3cret\r\n"} {
		code, out, errs := runCLI(t, in, nil, "hash-secret")
		if code != 0 || out != clientauth.HashSHA256("s3cret")+"\n" || errs != "" {
			t.Errorf("hash-secret <%q: %d %q %q", in, code, out, errs)
		}
	}
	code, out, _ := runCLI(t, "a passphrase\n", nil, "hash-secret", "--argon2id")
	if code != 0 {
		t.Fatalf("--argon2id: exit %d", code)
	}
	s, err := clientauth.ParseSecret(strings.TrimSpace(out))
	if err != nil || !s.Verify("a passphrase") {
		t.Errorf("--argon2id printed %q (%v)", out, err)
	}
	code, _, errs := runCLI(t, "", nil, "hash-secret")
	if code != 1 || !strings.HasPrefix(errs, "signet: no secret on stdin") || strings.Count(errs, "\n") != 1 {
		t.Errorf("empty stdin: %d %q", code, errs)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", nil, "version")
	if code != 0 || !strings.HasPrefix(out, "signet ") || !strings.Contains(out, "go1.") || !strings.Contains(out, "signing backend: ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("issuer: https://a.example\nkeyManagment: {}\n"), 0o600)
	unset := filepath.Join(dir, "unset.yaml")
	os.WriteFile(unset, []byte("issuer: https://a.example\nstorage: { driver: memory }\nkeyManagement: { protection: { secrets: [\"${NOT_SET}\"] } }\n"), 0o600)
	pg := filepath.Join(dir, "pg.yaml")
	os.WriteFile(pg, []byte("issuer: https://a.example\nstorage: { driver: postgres, dsn: postgres://x/y }\n"), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nope"}, 2, `signet: unknown command "nope"`},
		{[]string{"serve", "--bogus"}, 2, "signet: unknown flag: --bogus"},
		{[]string{"serve"}, 2, "signet: serve needs --config FILE"},
		{[]string{"serve", "--dev", "--config", "x.yaml"}, 2, "signet: --dev and --config exclude each other"},
		{[]string{"serve", "--config", filepath.Join(dir, "missing.yaml")}, 1, "does not exist; pass --config"},
		{[]string{"serve", "--config", bad}, 1, `bad.yaml:2: unknown key "keyManagment" at the top level; did you mean "keyManagement"?`},
		{[]string{"serve", "--config", unset}, 1, "environment variable NOT_SET is not set"},
		{[]string{"serve", "--config", pg}, 1, "keyManagement.protection.secrets: is required with the postgres store"},
		{[]string{"serve", "--config", bad, "--log-format", "xml"}, 2, `--log-format "xml": use json or text`},
		{[]string{"serve", "--config", bad, "--log-level", "loud"}, 2, `--log-level "loud"`},
	} {
		code, _, errs := runCLI(t, "", nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
		if last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]; !strings.HasPrefix(last, "signet: ") || strings.Count(last, "\n") != 1 {
			t.Errorf("%v: the error is not one line: %q", tc.args, errs)
		}
	}
}

func TestListenError(t *testing.T) {
	dir := t.TempDir()
	in := startServe(t, serveOptions{configPath: writeFile(t, dir, "a.yaml", "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256] }\n")}, nil)
	cfg := writeFile(t, dir, "b.yaml", "issuer: https://signet.test\nlisten: "+in.addr+"\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256] }\n")
	code, _, errs := runCLI(t, "", nil, "serve", "--config", cfg)
	if code != 1 || !strings.Contains(errs, "signet: listen on "+in.addr+": ") || !strings.Contains(errs, "address already in use") {
		t.Errorf("exit %d: %q", code, errs)
	}
}

func TestRestartNeeded(t *testing.T) {
	dir := t.TempDir()
	writeECKey(t, dir, "a.pem")
	writeECKey(t, dir, "b.pem")
	load := func(extra string) *config.Config {
		t.Helper()
		p := writeFile(t, dir, "c.yaml", "issuer: https://signet.test\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256] }\n"+extra)
		c, err := config.Load(p, func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := load("signingCredential: { file: a.pem, algorithm: ES256 }\n")
	for extra, want := range map[string]string{
		"signingCredential: { file: a.pem, algorithm: ES256 }\n":                                             "[]",
		"signingCredential: { file: b.pem, algorithm: ES256 }\n":                                             "[signingCredential]",
		"validationKeys: [ { file: a.pem, algorithm: ES256 } ]\n":                                            "[signingCredential validationKeys]",
		"signingCredential: { file: a.pem, algorithm: ES256 }\nlisten: 127.0.0.1:9999\n":                     "[listen]",
		"signingCredential: { file: a.pem, algorithm: ES256 }\ntrustedProxies: [ 10.0.0.0/8 ]\n":             "[trustedProxies]",
		"signingCredential: { file: a.pem, algorithm: ES256 }\nlimits: { passwordHashingQueue: 4 }\n":        "[limits]",
		"signingCredential: { file: a.pem, algorithm: ES256 }\napiResources: [ { name: a, scopes: [a] } ]\n": "[]",
	} {
		if got := fmt.Sprint(restartNeeded(base, load(extra))); got != want {
			t.Errorf("%q: %s, want %s", extra, got, want)
		}
	}
}

// Start-up warnings: a generated protection secret, unencrypted keys, a
// plain-text client secret.
func TestStartupWarnings(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "gen.yaml", `
issuer: https://signet.test
listen: 127.0.0.1:0
storage: { driver: sqlite, dsn: ./data/s.db }
keyManagement: { signingAlgorithms: [ES256] }
apiResources: [ { name: a, scopes: [a] } ]
clients: [ { clientId: dev, secrets: ["plain:dev-secret-value"], allowedGrantTypes: [client_credentials], allowedScopes: [a] } ]
`)
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	in.stop(t)
	logs := in.logs.String()
	for _, want := range []string{"generated a protection secret beside the data", filepath.Join(dir, "data/s.db.secret"), "client dev has a plain: secret"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "dev-secret-value") {
		t.Error("the logs show a client secret")
	}
	// Second start: the same secret file, no longer "generated".
	in = startServe(t, serveOptions{configPath: cfg}, nil)
	in.stop(t)
	if logs := in.logs.String(); strings.Contains(logs, "generated a protection secret") || !strings.Contains(logs, "sealed with a secret generated beside the data") {
		t.Errorf("second start:\n%s", logs)
	}

	off := writeFile(t, dir, "off.yaml", "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256], protection: { enabled: false } }\n")
	in = startServe(t, serveOptions{configPath: off}, nil)
	in.stop(t)
	if !strings.Contains(in.logs.String(), "private keys are stored unencrypted") {
		t.Errorf("no warning for unencrypted keys:\n%s", in.logs)
	}
}

func TestIDTokenLifetimeAgrees(t *testing.T) {
	// The configuration's default ID token lifetime is the server's.
	if config.DefaultIdentityTokenLifetime != server.DefaultIDTokenLifetime {
		t.Fatalf("config.DefaultIdentityTokenLifetime %s != server.DefaultIDTokenLifetime %s", config.DefaultIdentityTokenLifetime, server.DefaultIDTokenLifetime)
	}
}
