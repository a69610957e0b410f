package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestEmbeddedKeys builds the example, runs it, fetches its JWKS and
// verifies a token it signed with that JWKS: by hand (SQLite, a sealer,
// key.TimingOptions) and from a Signet configuration file.
func TestEmbeddedKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	bin := filepath.Join(t.TempDir(), "embedded-keys")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("by hand", func(t *testing.T) {
		cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-data", t.TempDir())
		cmd.Env = append(os.Environ(), "SIGNET_KEY_SECRET=an example secret of at least 32 bytes")
		check(t, cmd, "ES256")
	})
	t.Run("from a Signet configuration", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "signet.yaml")
		doc := "issuer: https://api.example.com\nstorage: { driver: sqlite, dsn: keys.db }\nkeyManagement:\n  signingAlgorithms: [ { name: RS256 } ]\n"
		if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, exec.Command(bin, "-listen", "127.0.0.1:0", "-config", cfg), "RS256")
	})
}

func check(t *testing.T, cmd *exec.Cmd, alg string) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first line, read before anything else drains stdout.
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	done := make(chan error, 1)
	go func() {
		io.Copy(io.Discard, br) // the rest, so the program never blocks on a full pipe
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("no exit after SIGINT\n%s", stderr.String())
		}
	})
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("first line %q, %v\n%s", line, err, stderr.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	get := func(path string) (*http.Response, []byte) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return resp, b
	}
	resp, body := get("/.well-known/jwks.json")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" || resp.Header.Get("ETag") == "" {
		t.Fatalf("JWKS headers: %v", resp.Header)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Algorithm != alg {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	_, disc := get("/.well-known/openid-configuration")
	var d struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(disc, &d); err != nil || d.JWKSURI != base+"/.well-known/jwks.json" || len(d.Algs) != 1 || d.Algs[0] != alg {
		t.Fatalf("discovery %s: %v", disc, err)
	}

	_, tok := get("/token?sub=alice")
	parsed, err := jwt.ParseSigned(string(tok), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if err := parsed.Claims(set, &claims); err != nil {
		t.Fatalf("the token does not verify with the published JWKS: %v", err)
	}
	if err := claims.Validate(jwt.Expected{Issuer: base, Subject: "alice", Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A token signed by another key is refused by the same set.
	if forged := string(tok[:len(tok)-4]) + "AAAA"; func() error {
		p, err := jwt.ParseSigned(forged, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			return err
		}
		return p.Claims(set, &claims)
	}() == nil {
		t.Fatal("a tampered signature verified")
	}
}
