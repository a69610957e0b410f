package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	const long = "Zm9vYmFyLWEtZ2VuZXJhdGVkLXNlY3JldC0wMTIzNDU2"
	for _, in := range []string{long, long + "\n", long + "\r\n"} {
		code, out, errs := runCLI(t, in, nil, "hash-secret")
		if code != 0 || out != clientauth.HashSHA256(long)+"\n" || errs != "" {
			t.Errorf("hash-secret <%q: %d %q %q", in, code, out, errs)
		}
	}
	// A short secret is hashed, with a warning.
	code, out, errs := runCLI(t, "s3cret\n", nil, "hash-secret")
	if code != 0 || out != clientauth.HashSHA256("s3cret")+"\n" || !strings.HasPrefix(errs, "warning: the secret is 6 characters; a sha256: hash of a short secret can be guessed") || !strings.Contains(errs, "signet hash-secret --generate") {
		t.Errorf("short secret: %d %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "a passphrase\n", nil, "hash-secret", "--argon2id")
	if code != 0 {
		t.Fatalf("--argon2id: exit %d", code)
	}
	s, err := clientauth.ParseSecret(strings.TrimSpace(out))
	if err != nil || !s.Verify("a passphrase") {
		t.Errorf("--argon2id printed %q (%v)", out, err)
	}
	code, _, errs = runCLI(t, "", nil, "hash-secret")
	if code != 1 || !strings.HasPrefix(errs, "signet: no secret on stdin") || strings.Count(errs, "\n") != 1 {
		t.Errorf("empty stdin: %d %q", code, errs)
	}
}

// TestHashSecretGenerate: --generate prints a new base64url secret and its
// hash, each run a different one.
func TestHashSecretGenerate(t *testing.T) {
	seen := map[string]bool{}
	for _, args := range [][]string{{"hash-secret", "--generate"}, {"hash-secret", "--generate"}, {"hash-secret", "--generate", "--argon2id"}} {
		code, out, errs := runCLI(t, "ignored stdin", nil, args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != 2 || errs != "" {
			t.Fatalf("%v: %d %q %q", args, code, out, errs)
		}
		secret, hash := lines[0], lines[1]
		if len(secret) != 43 || strings.ContainsAny(secret, "+/=") || seen[secret] {
			t.Errorf("%v: secret %q is not 32 new bytes in base64url", args, secret)
		}
		seen[secret] = true
		s, err := clientauth.ParseSecret(hash)
		if err != nil || !s.Verify(secret) || s.Verify(secret+"x") {
			t.Errorf("%v: %q is not the hash of %q (%v)", args, hash, secret, err)
		}
	}
}

// TestHashPasswordTerminal: on a terminal the password is asked twice
// without echo, never read from the echoing stdin.
func TestHashPasswordTerminal(t *testing.T) {
	run := func(answers ...string) (int, string, string, []string) {
		var out, errb bytes.Buffer
		var prompts []string
		e := &env{
			stdin: strings.NewReader("typed-with-echo\n"), stdout: &out, stderr: &errb,
			lookupEnv:  func(string) (string, bool) { return "", false },
			isTerminal: func() bool { return true },
			readSecret: func(prompt string) (string, error) {
				prompts = append(prompts, prompt)
				a := answers[0]
				answers = answers[1:]
				return a, nil
			},
		}
		code := run(context.Background(), []string{"hash-password"}, e)
		return code, out.String(), errb.String(), prompts
	}
	code, out, errs, prompts := run("correct horse battery", "correct horse battery")
	if code != 0 || len(prompts) != 2 || errs != "" {
		t.Fatalf("exit %d, prompts %q, stderr %q", code, prompts, errs)
	}
	s, err := clientauth.ParseSecret(strings.TrimSpace(out))
	if err != nil || !s.Verify("correct horse battery") || s.Verify("typed-with-echo") {
		t.Errorf("printed %q (%v): not the hash of the password typed without echo", out, err)
	}
	if code, _, errs, _ := run("one", "two"); code != 1 || !strings.Contains(errs, "the two passwords differ") {
		t.Errorf("mismatch: %d %q", code, errs)
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
	// serve binds before it opens the store or creates a key: a busy
	// port leaves no store, no secret and no key behind.
	sq := writeFile(t, dir, "c.yaml", "issuer: https://signet.test\nlisten: "+in.addr+"\nstorage: { driver: sqlite, dsn: ./data/s.db }\nkeyManagement: { signingAlgorithms: [ES256] }\n")
	if code, _, errs := runCLI(t, "", nil, "serve", "--config", sq); code != 1 || !strings.Contains(errs, "address already in use") {
		t.Errorf("sqlite: exit %d: %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("serve created its data before binding the port: %v", err)
	}
	// The admin listener too is bound before the store is opened.
	adm := writeFile(t, dir, "d.yaml", "issuer: https://signet.test\nlisten: 127.0.0.1:0\nadminListen: "+in.addr+"\nstorage: { driver: sqlite, dsn: ./data/s.db }\nkeyManagement: { signingAlgorithms: [ES256] }\n")
	if code, _, errs := runCLI(t, "", nil, "serve", "--config", adm); code != 1 || !strings.Contains(errs, "address already in use") {
		t.Errorf("admin: exit %d: %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("serve created its data before binding the admin port: %v", err)
	}
	// A port out of range in adminListen gets the port's hint.
	bad := writeFile(t, dir, "e.yaml", "issuer: https://signet.test\nlisten: 127.0.0.1:0\nadminListen: 127.0.0.1:90900\nstorage: { driver: memory }\n")
	if code, _, errs := runCLI(t, "", nil, "config", "check", "--config", bad); code != 1 || !strings.Contains(errs, `e.yaml:3: adminListen: "127.0.0.1:90900": port 90900 is out of range`) {
		t.Errorf("adminListen port: exit %d: %q", code, errs)
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
		"signingCredential: { file: a.pem, algorithm: ES256 }\napiResources: [ { name: a, scopes: [a] } ]\n": "[]",
		"signingCredential: { file: a.pem, algorithm: ES256 }\ndpop: { requireNonce: true }\n":               "[dpop]",
		"signingCredential: { file: a.pem, algorithm: ES256 }\nmfa: { required: true }\n":                    "[mfa]",
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

// TestKeysDevInspectsServeDev: `keys --dev` reads the keys `serve --dev`
// made in the same directory, while it runs.
func TestKeysDevInspectsServeDev(t *testing.T) {
	t.Chdir(t.TempDir())
	in := startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0"}, nil)
	code, out, errs := runCLI(t, "", nil, "keys", "list", "--dev", "--json")
	if code != 0 || errs != "" {
		t.Fatalf("keys list --dev: %d %q", code, errs)
	}
	for _, kid := range jwksKids(t, in.jwksURL()) {
		if !strings.Contains(out, `"kid": "`+kid+`"`) {
			t.Errorf("keys list --dev does not list the served key %s:\n%s", kid, out)
		}
	}
	if strings.Count(out, `"state": "active"`) != 2 {
		t.Errorf("want the two active keys of serve --dev (RS256, ES256):\n%s", out)
	}
}

// TestServeReadsDefaultConfig: without --config, serve reads ./signet.yaml
// as keys and config check do.
func TestServeReadsDefaultConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFile(t, ".", "signet.yaml", "issuer: https://signet.test\nlisten: 127.0.0.1:0\nstorage: { driver: memory }\nkeyManagement: { signingAlgorithms: [ES256] }\n")
	in := startServe(t, serveOptions{}, nil)
	if in.issuer != "https://signet.test" {
		t.Errorf("issuer %q", in.issuer)
	}
}

// TestFlagsFromEnvironment: every flag has an environment variable,
// SIGNET_ and its name; the command line wins; a bad value names the
// variable; the help shows it.
func TestFlagsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	ok := writeFile(t, dir, "ok.yaml", "issuer: https://signet.test\nstorage: { driver: memory }\n")
	code, out, errs := runCLI(t, "", map[string]string{"SIGNET_CONFIG": ok}, "config", "check")
	if code != 0 || !strings.Contains(out, "ok.yaml: valid") {
		t.Errorf("SIGNET_CONFIG: %d %q %q", code, out, errs)
	}
	code, _, errs = runCLI(t, "", map[string]string{"SIGNET_CONFIG": ok}, "config", "check", "--config", filepath.Join(dir, "missing.yaml"))
	if code != 1 || !strings.Contains(errs, "missing.yaml does not exist") {
		t.Errorf("the flag must win over SIGNET_CONFIG: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "", map[string]string{"SIGNET_CONFIG": ok, "SIGNET_LOG_FORMAT": "xml"}, "serve")
	if code != 2 || !strings.Contains(errs, `--log-format "xml": use json or text`) {
		t.Errorf("SIGNET_LOG_FORMAT: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "", map[string]string{"SIGNET_SHUTDOWN_TIMEOUT": "soon"}, "serve")
	if code != 2 || !strings.Contains(errs, `signet: SIGNET_SHUTDOWN_TIMEOUT="soon" (for --shutdown-timeout): `) {
		t.Errorf("bad SIGNET_SHUTDOWN_TIMEOUT: %d %q", code, errs)
	}
	code, out, _ = runCLI(t, "", map[string]string{"SIGNET_GENERATE": "true"}, "hash-secret")
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("SIGNET_GENERATE: %d %q", code, out)
	}
	// No variable confirms a revoke or makes a rotation take effect at once.
	for _, args := range [][]string{{"keys", "revoke", "--config", ok, "some-kid"}, {"keys", "rotate", "--config", ok}} {
		_, _, errs := runCLI(t, "", map[string]string{"SIGNET_YES": "true", "SIGNET_NOW": "true"}, args...)
		if strings.Contains(errs, "SIGNET_YES") || strings.Contains(errs, "SIGNET_NOW") {
			t.Errorf("%v: %q", args, errs)
		}
	}
	root0 := newRootCmd(&env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	for _, path := range [][]string{{"keys", "revoke"}, {"keys", "rotate"}} {
		c, _, err := root0.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		name := map[string]string{"revoke": "yes", "rotate": "now"}[path[1]]
		if f := c.Flags().Lookup(name); f == nil || !isCLIOnly(f) {
			t.Errorf("%v --%s must be command line only", path, name)
		}
		if err := applyFlagEnv(c, func(n string) (string, bool) { return "true", true }); err != nil {
			t.Fatal(err)
		}
		if f := c.Flags().Lookup(name); f.Value.String() != "false" {
			t.Errorf("%v: SIGNET_%s set --%s", path, strings.ToUpper(name), name)
		}
	}
	// Every visible flag of every command documents its variable.
	root := newRootCmd(&env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if isCLIOnly(f) {
				if strings.Contains(f.Usage, "[$") || !strings.Contains(f.Usage, "[command line only]") {
					t.Errorf("%s --%s: help must say it is command line only: %q", c.CommandPath(), f.Name, f.Usage)
				}
				return
			}
			if !f.Hidden && !strings.Contains(f.Usage, "[$"+flagEnvName(f.Name)+"]") {
				t.Errorf("%s --%s: help does not name %s", c.CommandPath(), f.Name, flagEnvName(f.Name))
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	// docs/configuration.md lists every variable.
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var docWalk func(c *cobra.Command)
	docWalk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if n := flagEnvName(f.Name); !f.Hidden && f.Name != "help" && !isCLIOnly(f) && !strings.Contains(string(doc), "`"+n+"`") {
				t.Errorf("docs/configuration.md does not list %s (%s --%s)", n, c.CommandPath(), f.Name)
			}
		})
		for _, s := range c.Commands() {
			docWalk(s)
		}
	}
	docWalk(root)
	if got := flagEnvName("log-format"); got != "SIGNET_LOG_FORMAT" {
		t.Errorf("flagEnvName(log-format) = %s", got)
	}
}

// TestDevSecretFileMode: serve --dev refuses a demo secret file other
// users can read, naming the chmod.
func TestDevSecretFileMode(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(devDataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(devDataDir, devSecretFile)
	if err := os.WriteFile(path, []byte("a-demo-secret-0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	code, _, errs := runCLI(t, "", nil, "serve", "--dev", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "other users can access it (mode 0644); run chmod 600 "+path) {
		t.Errorf("exit %d: %q", code, errs)
	}
}

// TestTroubleshootingMessages: every message docs/troubleshooting.md
// explains (a heading that is one quoted message) is one Signet prints, so
// the page follows the code.
func TestTroubleshootingMessages(t *testing.T) {
	doc, err := os.ReadFile("../../docs/troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	external := map[string]bool{"permission denied for schema": true} // PostgreSQL's
	var src strings.Builder
	err = filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			src.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(doc), "\n") {
		msg, ok := strings.CutPrefix(line, "### `")
		if !ok || !strings.HasSuffix(msg, "`") || strings.Count(msg, "`") != 1 {
			continue
		}
		msg = strings.TrimSuffix(msg, "`")
		n++
		if !external[msg] && !strings.Contains(src.String(), msg) {
			t.Errorf("docs/troubleshooting.md explains %q, which no Go source prints", msg)
		}
	}
	if n < 15 {
		t.Errorf("only %d messages found in docs/troubleshooting.md", n)
	}
}

// TestSecretRecipesAreBase64url: wherever Signet recommends a command for
// a secret (docs, the example configuration, help and error texts), it
// yields base64url: no + or / that clients which do not form-encode HTTP
// Basic credentials would break on.
func TestSecretRecipesAreBase64url(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md", "../../signet.example.yaml")
	goFiles, _ := filepath.Glob("../../*/*.go")
	more, _ := filepath.Glob("../../*/*/*.go")
	files = append(files, append(goFiles, more...)...)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "troubleshooting.md") {
			continue // the troubleshooting page names the old recipe as the cause
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for rest := string(b); ; {
			i := strings.Index(rest, "openssl rand -base64 32")
			if i < 0 {
				break
			}
			rest = rest[i+len("openssl rand -base64 32"):]
			checked++
			if after := strings.TrimLeft(strings.ReplaceAll(rest, `\|`, "|"), " "); !strings.HasPrefix(after, "| tr '+/' '-_' | tr -d =") {
				t.Errorf("%s recommends plain base64 (openssl rand -base64 32 without | tr '+/' '-_' | tr -d =)", f)
			}
		}
	}
	if checked == 0 {
		t.Error("no recipe found")
	}
}
