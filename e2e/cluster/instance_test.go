package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/seal"
)

const (
	issuer       = "https://signet.test"
	clientID     = "cluster-e2e"
	clientSecret = "cluster-e2e-client-secret-0123456789"
	// keySecret is the protection secret every instance shares.
	keySecret = "cluster-e2e-protection-secret-0123456789"
	pathJWKS  = "/.well-known/openid-configuration/jwks"
)

// allowedAlgs is the relying parties' algorithm allowlist.
var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.RS256}

// httpClient talks to the instances.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// clusterConfig is what differs between the tests' configurations.
type clusterConfig struct {
	Algorithms []key.Algorithm
	// Zero durations and size take the defaults.
	RotationInterval, PropagationTime, RetentionDuration time.Duration
	RSAKeySize                                           int
	// KeyBackend is YAML inserted into keyManagement (e.g. a keyBackend
	// section), or "".
	KeyBackend string
}

// options returns the key management options an instance derives from c,
// for a key manager in the test process.
func (c clusterConfig) options() key.Options {
	o := key.DefaultOptions()
	o.SigningAlgorithms = nil
	for _, a := range c.Algorithms {
		o.SigningAlgorithms = append(o.SigningAlgorithms, key.AlgorithmOptions{Algorithm: a})
	}
	if c.RotationInterval > 0 {
		o.RotationInterval, o.PropagationTime, o.RetentionDuration = c.RotationInterval, c.PropagationTime, c.RetentionDuration
	}
	if c.RSAKeySize > 0 {
		o.RSAKeySize = c.RSAKeySize
	}
	return o
}

// scope is the scope whose tokens alg signs: each algorithm has an API
// resource restricted to it.
func scope(alg key.Algorithm) string { return "sign." + strings.ToLower(string(alg)) }

// writeConfig writes the instances' configuration file. The store DSN and
// the protection secret come from the environment (SIGNET_CLUSTER_DSN,
// SIGNET_KEY_SECRET); instances listen on a port the OS chooses and log
// it.
func writeConfig(t *testing.T, c clusterConfig) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "issuer: %s\nlisten: 127.0.0.1:0\nadminListen: 127.0.0.1:0\n", issuer)
	b.WriteString("storage: { driver: postgres, dsn: \"${SIGNET_CLUSTER_DSN}\" }\n")
	b.WriteString("keyManagement:\n  signingAlgorithms: [")
	for i, a := range c.Algorithms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(a))
	}
	b.WriteString("]\n")
	if c.RotationInterval > 0 {
		fmt.Fprintf(&b, "  rotationInterval: %s\n  propagationTime: %s\n  retentionDuration: %s\n",
			c.RotationInterval, c.PropagationTime, c.RetentionDuration)
	}
	if c.RSAKeySize > 0 {
		fmt.Fprintf(&b, "  rsaKeySize: %d\n", c.RSAKeySize)
	}
	b.WriteString(c.KeyBackend)
	b.WriteString("  protection: { secrets: [ \"${SIGNET_KEY_SECRET}\" ] }\napiResources:\n")
	var scopes []string
	for _, a := range c.Algorithms {
		fmt.Fprintf(&b, "  - { name: api-%s, scopes: [%s], allowedAccessTokenSigningAlgorithms: [%s] }\n", strings.ToLower(string(a)), scope(a), a)
		scopes = append(scopes, scope(a))
	}
	fmt.Fprintf(&b, `clients:
  - clientId: %s
    secrets: [ "plain:%s" ]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [%s]
    accessTokenLifetime: 5m
`, clientID, clientSecret, strings.Join(scopes, ", "))
	path := filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func testSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New([][]byte{[]byte(keySecret)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// logBuffer collects an instance's log lines; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// instance is one `signet serve` process.
type instance struct {
	name    string
	cmd     *exec.Cmd
	logs    *logBuffer
	started time.Time
	exited  chan struct{} // closed when the process has exited
	base    string        // http://host:port, once it listens
	admin   string        // the admin listener's http://host:port
}

// newInstance prepares `signet serve --config cfg` (and flags) with the
// store DSN dsn; the process is stopped (SIGTERM, then SIGKILL) when the
// test ends and its logs are shown if the test failed.
func newInstance(t *testing.T, name, cfg, dsn string, flags ...string) *instance {
	t.Helper()
	in := &instance{name: name, logs: &logBuffer{}, exited: make(chan struct{})}
	in.cmd = exec.Command(binary, append([]string{"serve", "--config", cfg, "--log-format", "json"}, flags...)...)
	in.cmd.Env = commandEnv(dsn)
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	setPdeathsig(in.cmd)
	t.Cleanup(func() {
		in.stop()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", in.name, in.logs)
		}
	})
	return in
}

// commandEnv is the environment of a signet command: the store DSN and the
// protection secret the configuration refers to.
func commandEnv(dsn string) []string {
	return append(os.Environ(), "SIGNET_CLUSTER_DSN="+dsn, "SIGNET_KEY_SECRET="+keySecret)
}

// signet runs a signet command (not serve) to completion.
func signet(ctx context.Context, dsn string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = commandEnv(dsn)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	setPdeathsig(cmd)
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("signet %s: %w\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), err
}

// start starts the process.
func (in *instance) start() error {
	in.started = time.Now()
	if err := in.cmd.Start(); err != nil {
		close(in.exited)
		return fmt.Errorf("%s: %w", in.name, err)
	}
	go func() {
		in.cmd.Wait()
		close(in.exited)
	}()
	return nil
}

func (in *instance) hasExited() bool {
	select {
	case <-in.exited:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, and SIGKILL if the process has not exited after 10s.
func (in *instance) stop() {
	if in.cmd.Process == nil || in.hasExited() {
		return
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(10 * time.Second):
		in.kill()
	}
}

// kill sends SIGKILL and waits for the process to exit.
func (in *instance) kill() {
	if in.cmd.Process != nil {
		in.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-in.exited
}

// waitListening waits for the "signet started" log line and takes the
// address from it.
func (in *instance) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(in.logs.String()))
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasPrefix(line.Msg, "admin listener started") {
				in.admin = "http://" + line.Addr
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "signet started" && line.Addr != "" {
				in.base = "http://" + line.Addr
				return
			}
		}
		if in.hasExited() {
			t.Fatalf("%s exited during start-up: %v\n%s", in.name, in.cmd.ProcessState, in.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not start within 60s:\n%s", in.name, in.logs)
}

// readiness is the detailed /readyz body of the admin listener.
type readiness struct {
	Status string `json:"status"`
	Tokens string `json:"tokens"`
	Store  string `json:"store"`
}

// readyz returns the admin listener's /readyz status code and body.
func (in *instance) readyz(ctx context.Context) (int, readiness, string, error) {
	code, body, err := in.getAt(ctx, in.admin, "/readyz")
	var r readiness
	if err == nil {
		err = json.Unmarshal(body, &r)
	}
	return code, r, string(body), err
}

// waitReady polls /readyz until the instance is ready with its store
// answering.
func (in *instance) waitReady(t *testing.T) {
	t.Helper()
	var last string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, r, body, err := in.readyz(t.Context())
		if err == nil && code == http.StatusOK && r.Status == "ready" && r.Store == "ok" {
			return
		}
		last = fmt.Sprint(code, " ", body, " ", err)
		if in.hasExited() {
			t.Fatalf("%s exited: %v\n%s", in.name, in.cmd.ProcessState, in.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 60s; last /readyz: %s", in.name, last)
}

func (in *instance) get(ctx context.Context, path string) (int, []byte, error) {
	return in.getAt(ctx, in.base, path)
}

// getAt gets path from base: in.base, or in.admin for the admin listener.
func (in *instance) getAt(ctx context.Context, base, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// jwks returns the instance's JWKS document.
func (in *instance) jwks(ctx context.Context) ([]byte, error) {
	code, body, err := in.get(ctx, pathJWKS)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("%s: JWKS: HTTP %d: %s", in.name, code, body)
	}
	return body, err
}

// token gets an access token signed with alg (client_credentials).
func (in *instance) token(ctx context.Context, alg key.Algorithm) (string, error) {
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: in.base + "/connect/token",
		Scopes: []string{scope(alg)}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, httpClient))
	if err != nil {
		return "", fmt.Errorf("%s: token: %w", in.name, err)
	}
	return tok.AccessToken, nil
}

// startTogether starts the instances at the same moment and waits until
// each listens.
func startTogether(t *testing.T, ins ...*instance) {
	t.Helper()
	gate := make(chan struct{})
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			<-gate
			errs[i] = in.start()
		})
	}
	close(gate)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		in.waitListening(t)
	}
}

// verifyToken checks a token as a relying party holding jwksBody would:
// an allowed algorithm, a kid in the set whose key has the token's
// algorithm, a valid signature, the issuer and the validity period. It
// returns the kid.
func verifyToken(raw string, jwksBody []byte) (string, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksBody, &set); err != nil {
		return "", fmt.Errorf("JWKS: %w", err)
	}
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil {
		return "", err
	}
	h := tok.Headers[0]
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return h.KeyID, fmt.Errorf("kid %q is in the JWKS %d times, want once", h.KeyID, len(keys))
	}
	if keys[0].Algorithm != h.Algorithm {
		return h.KeyID, fmt.Errorf("kid %q: the token says %s, the JWK %s", h.KeyID, h.Algorithm, keys[0].Algorithm)
	}
	var c jwt.Claims
	if err := tok.Claims(keys[0], &c); err != nil {
		return h.KeyID, fmt.Errorf("kid %q: %w", h.KeyID, err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, Time: time.Now()}, 5*time.Second); err != nil {
		return h.KeyID, fmt.Errorf("kid %q: %w", h.KeyID, err)
	}
	return h.KeyID, nil
}

// kids lists the kids of a JWKS document in order.
func kids(jwksBody []byte) []string {
	var set struct{ Keys []struct{ Kid string } }
	json.Unmarshal(jwksBody, &set)
	out := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}
