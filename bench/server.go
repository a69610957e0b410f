package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/key"
)

// startTimeout bounds a server's start (key generation included).
const startTimeout = 90 * time.Second

// signetServer is a running `signet serve`.
type signetServer struct {
	*child
	addr      string
	tokenPath string
	jwksPath  string
	secret    string
	// assertionKey signs the keyed client's assertions (privatekeyjwt.go).
	assertionKey *ecdsa.PrivateKey

	mu        sync.Mutex
	created   []time.Time // when "key created" was logged (rotation)
	adminAddr string      // the admin listener (/metrics), from its log line
}

// onServeLine reads a line of signet serve's JSON log: it keeps the admin
// listener's address (/metrics) and sends the public listener's on
// started when the server has started. It returns the line's message.
func (s *signetServer) onServeLine(line string, started chan<- string) string {
	var rec struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil {
		return ""
	}
	switch {
	case strings.HasPrefix(rec.Msg, "admin listener started"):
		s.mu.Lock()
		s.adminAddr = rec.Addr
		s.mu.Unlock()
	case rec.Msg == "signet started":
		select {
		case started <- rec.Addr:
		default:
		}
	}
	return rec.Msg
}

// serveFlags are the optional flags of `signet serve` this binary has.
type serveFlags struct {
	unsafeTiming bool
	cpuProfile   bool
}

// probeServe asks `signet serve` for its optional flags: --unsafe-timing
// is listed in its help; the hidden --cpuprofile is there when the help
// parses with it.
func probeServe(ctx context.Context, bin string) serveFlags {
	out, _ := commandOutput(ctx, bin, "serve", "--help")
	_, err := commandOutput(ctx, bin, "serve", "--cpuprofile", os.DevNull, "--help")
	return serveFlags{
		unsafeTiming: strings.Contains(out, "--unsafe-timing"),
		cpuProfile:   err == nil,
	}
}

// startSignet writes cfg, starts `signet serve` on serverCPU and waits
// until it is ready. The caller stops it.
func startSignet(ctx context.Context, name, bin string, cfg *serverConfig, flags serveFlags, cpuProfile string, logTo io.Writer) (*signetServer, error) {
	path, err := cfg.write()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--config", path, "--log-format", "json", "--log-level", "info"}
	if cfg.rotate && flags.unsafeTiming {
		args = append(args, "--unsafe-timing")
	}
	if cpuProfile != "" {
		if !flags.cpuProfile {
			return nil, errors.New("--cpuprofile: this signet serve has no --cpuprofile flag")
		}
		args = append(args, "--cpuprofile", cpuProfile)
	}
	s := &signetServer{secret: cfg.secret, assertionKey: cfg.assertionKey}
	started := make(chan string, 1)
	onLine := func(line string) {
		if logTo != nil {
			fmt.Fprintf(logTo, "[%s] %s\n", name, line)
		}
		if s.onServeLine(line, started) == "key created" {
			s.mu.Lock()
			s.created = append(s.created, time.Now())
			s.mu.Unlock()
		}
	}
	c, err := startPinned(name, serverCPU, bin, args, nil, nil, onLine)
	if err != nil {
		return nil, err
	}
	s.child = c
	ok := false
	defer func() {
		if !ok {
			c.stop()
		}
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case s.addr = <-started:
	case <-c.done:
		return nil, c.exitErr(fmt.Errorf("exited during start-up (%v)", c.err))
	case <-t.C:
		return nil, c.exitErr(errors.New("did not start within " + startTimeout.String()))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	if err := s.discover(); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// waitReady polls /readyz until it answers 200.
func (s *signetServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(startTimeout)
	for {
		status, _, body, err := fetch(s.addr, newRequest("GET", "/readyz", nil, "", 200))
		if err == nil && status == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return s.exitErr(fmt.Errorf("not ready after %s: %d %s %v", startTimeout, status, body, err))
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// discover reads the token endpoint and JWKS paths from the discovery
// document.
func (s *signetServer) discover() error {
	status, _, body, err := fetch(s.addr, newRequest("GET", "/.well-known/openid-configuration", nil, "", 200))
	if err != nil || status != 200 {
		return fmt.Errorf("discovery: %d %s %v", status, body, err)
	}
	var doc struct {
		Token string `json:"token_endpoint"`
		JWKS  string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	for _, x := range []struct {
		raw string
		dst *string
	}{{doc.Token, &s.tokenPath}, {doc.JWKS, &s.jwksPath}} {
		u, err := url.Parse(x.raw)
		if err != nil || u.Path == "" {
			return fmt.Errorf("discovery: bad endpoint %q", x.raw)
		}
		*x.dst = u.Path
	}
	return nil
}

// tokenRequest is a client_credentials request whose scope selects alg,
// authenticated with client_secret_basic.
func (s *signetServer) tokenRequest(alg key.Algorithm) request {
	basic := base64.StdEncoding.EncodeToString([]byte(benchClient + ":" + s.secret))
	return newRequest("POST", s.tokenPath, []string{
		"Content-Type: application/x-www-form-urlencoded",
		"Authorization: Basic " + basic,
	}, "grant_type=client_credentials&scope="+scopeOf(alg), 200)
}

// checkToken gets one token for alg and checks that alg signed it and
// that it verifies with the published JWKS (go-jose, with alg the only
// algorithm allowed). It returns the size of the response body.
func (s *signetServer) checkToken(alg key.Algorithm) (int, error) {
	status, _, body, err := fetch(s.addr, s.tokenRequest(alg))
	if err != nil {
		return 0, fmt.Errorf("%s token: %w", alg, err)
	}
	if status != 200 {
		return 0, fmt.Errorf("%s token: status %d: %s", alg, status, body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, fmt.Errorf("%s token: %w", alg, err)
	}
	sig, err := jose.ParseSignedCompact(resp.AccessToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return 0, fmt.Errorf("%s token: %w", alg, err)
	}
	status, _, jwks, err := fetch(s.addr, newRequest("GET", s.jwksPath, nil, "", 200))
	if err != nil || status != 200 {
		return 0, fmt.Errorf("JWKS: %d %v", status, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return 0, fmt.Errorf("JWKS: %w", err)
	}
	kid := sig.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		return 0, fmt.Errorf("%s token: kid %q is not in the JWKS once", alg, kid)
	}
	if _, err := sig.Verify(keys[0]); err != nil {
		return 0, fmt.Errorf("%s token: %w", alg, err)
	}
	return len(body), nil
}

// jwksETag returns the JWKS's ETag and body size.
func (s *signetServer) jwksETag() (string, int, error) {
	status, hdr, body, err := fetch(s.addr, newRequest("GET", s.jwksPath, nil, "", 200))
	if err != nil || status != 200 || hdr["etag"] == "" {
		return "", 0, fmt.Errorf("JWKS: %d %v (ETag %q)", status, err, hdr["etag"])
	}
	return hdr["etag"], len(body), nil
}

// goroutines reads go_goroutines from /metrics.
func (s *signetServer) goroutines() (int, error) {
	s.mu.Lock()
	admin := s.adminAddr
	s.mu.Unlock()
	status, _, body, err := fetch(admin, newRequest("GET", "/metrics", nil, "", 200))
	if err != nil || status != 200 {
		return 0, fmt.Errorf("/metrics: %d %v", status, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, errors.New("/metrics has no go_goroutines")
}

// keysCreated returns how many keys the server logged as created in
// [from, to].
func (s *signetServer) keysCreated(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.created {
		if !t.Before(from) && !t.After(to) {
			n++
		}
	}
	return n
}

// commandOutput runs a short command and returns its combined output.
func commandOutput(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := execCommand(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// moduleRoot returns the directory of the Signet module (go env GOMOD).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := commandOutput(ctx, "go", "env", "GOMOD")
	gomod := strings.TrimSpace(out)
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the benchmark inside the Signet module (go env GOMOD: %q %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}
