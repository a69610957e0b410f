package cluster

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/pgtest"
)

const (
	loginClient   = "app"
	loginRedirect = "http://127.0.0.1/cb"
	loginUser     = "alice"
	loginPassword = "cluster-e2e-password"
	loginVerifier = "cluster-e2e-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
)

// writeLoginConfig writes a configuration with a user and a public client
// that signs in and refreshes (reuse interval: the default 30s).
func writeLoginConfig(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary, "hash-password")
	cmd.Stdin = strings.NewReader(loginPassword)
	hash, err := cmd.Output()
	if err != nil {
		t.Fatalf("hash-password: %v", err)
	}
	cfg := fmt.Sprintf(`issuer: %s
listen: 127.0.0.1:0
adminListen: 127.0.0.1:0
storage: { driver: postgres, dsn: "${SIGNET_CLUSTER_DSN}" }
keyManagement:
  signingAlgorithms: [ES256]
  protection: { secrets: [ "${SIGNET_KEY_SECRET}" ] }
clients:
  - clientId: %s
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, offline_access]
    redirectUris: [ %q ]
users:
  - { subject: u-alice, username: %s, passwordHash: %q }
`, issuer, loginClient, loginRedirect, loginUser, strings.TrimSpace(string(hash)))
	path := filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var reLoginField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

var noRedirect = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn runs the code flow of a new browser against base and returns the
// refresh token. Cookies are carried by hand: the issuer is https, so
// they are Secure, and the test talks plain HTTP.
func signIn(base string) (string, error) {
	sum := sha256.Sum256([]byte(loginVerifier))
	q := url.Values{"response_type": {"code"}, "client_id": {loginClient}, "redirect_uri": {loginRedirect},
		"scope": {"openid offline_access"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	resp, err := noRedirect.Get(base + "/connect/authorize?" + q.Encode())
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc := strings.Replace(resp.Header.Get("Location"), issuer, base, 1)
	resp, err = noRedirect.Get(loc)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cookies []string
	for _, c := range resp.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	form := url.Values{"username": {loginUser}, "password": {loginPassword}}
	for _, m := range reLoginField.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	req, _ := http.NewRequest("POST", base+"/account/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	resp, err = noRedirect.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || cb.Query().Get("code") == "" {
		return "", fmt.Errorf("login: %d, no code in %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, rt, err := tokenRequest(base, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {loginRedirect}, "client_id": {loginClient}, "code_verifier": {loginVerifier}})
	if err == nil && status != 200 {
		err = fmt.Errorf("code exchange: %d", status)
	}
	return rt, err
}

// tokenRequest posts form to base's token endpoint and returns the status
// and the refresh token of a 200.
func tokenRequest(base string, form url.Values) (int, string, error) {
	resp, err := noRedirect.PostForm(base+"/connect/token", form)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var tr struct {
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &tr)
	if resp.StatusCode == 200 && tr.RefreshToken == "" {
		return resp.StatusCode, "", fmt.Errorf("no refresh token: %s", b)
	}
	return resp.StatusCode, tr.RefreshToken, nil
}

// TestRefreshSurvivesKill: 3 instances on one PostgreSQL schema serve
// refresh-token families under load; one is killed (SIGKILL) mid-load
// and restarted. A client whose request died with the instance retries
// the same refresh token on another instance (within the reuse interval
// it gets the successor the dead instance committed, if it did): no
// family breaks, and every error a client saw was a retryable one
// (connection failure or 5xx). It logs the throughput per 250 ms.
func TestRefreshSurvivesKill(t *testing.T) {
	_, dsn := newSchema(t)
	needCluster(t)
	cfg := writeLoginConfig(t)
	dsn = pgtest.WithParams(t, dsn, "pool_max_conns", "4")
	var mu sync.Mutex
	ins := make([]*instance, 3)
	for i := range ins {
		ins[i] = newInstance(t, fmt.Sprintf("instance-%d", i+1), cfg, dsn)
	}
	startTogether(t, ins...)
	for _, in := range ins {
		in.waitReady(t)
	}
	bases := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, in := range ins {
			if !in.hasExited() && in.base != "" {
				out = append(out, in.base)
			}
		}
		return out
	}

	const families = 12
	rts := make([]string, families)
	for i := range rts {
		rt, err := signIn(bases()[i%3])
		if err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
		rts[i] = rt
	}

	start := time.Now()
	const bucket = 250 * time.Millisecond
	var (
		stop      atomic.Bool
		done      [200]atomic.Int64 // refreshes per bucket
		retried   atomic.Int64
		broken    atomic.Int64
		brokenMsg atomic.Value
	)
	var wg sync.WaitGroup
	for f := range families {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				ok := false
				for attempt := 0; attempt < 50 && !ok; attempt++ {
					bs := bases()
					if len(bs) == 0 {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					status, rt, err := tokenRequest(bs[(f+n+attempt)%len(bs)], url.Values{"grant_type": {"refresh_token"},
						"refresh_token": {rts[f]}, "client_id": {loginClient}})
					switch {
					case err == nil && status == 200:
						rts[f], ok = rt, true
					case err != nil || status >= 500: // retryable: the same token again
						retried.Add(1)
						time.Sleep(20 * time.Millisecond)
					default:
						broken.Add(1)
						brokenMsg.CompareAndSwap(nil, fmt.Sprintf("family %d: status %d", f, status))
						return
					}
				}
				if !ok {
					broken.Add(1)
					brokenMsg.CompareAndSwap(nil, fmt.Sprintf("family %d: no instance answered in 50 attempts", f))
					return
				}
				if i := int(time.Since(start) / bucket); i < len(done) {
					done[i].Add(1)
				}
			}
		})
	}
	time.Sleep(3 * time.Second)
	killedAt := time.Since(start)
	ins[0].kill()
	time.Sleep(2 * time.Second)
	restarted := newInstance(t, "instance-1-restarted", cfg, dsn)
	if err := restarted.start(); err != nil {
		t.Fatal(err)
	}
	restarted.waitListening(t)
	restarted.waitReady(t)
	mu.Lock()
	ins[0] = restarted
	mu.Unlock()
	back := time.Since(start)
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	total := time.Since(start)

	var rates []string
	for i := 0; i < int(total/bucket) && i < len(done); i++ {
		rates = append(rates, fmt.Sprint(done[i].Load()*int64(time.Second/bucket)))
	}
	t.Logf("refreshes/s per 250 ms: %s", strings.Join(rates, " "))
	t.Logf("killed at %s, restarted instance ready at %s; %d retried requests", killedAt.Round(time.Millisecond), back.Round(time.Millisecond), retried.Load())
	if n := broken.Load(); n > 0 {
		t.Fatalf("%d broken families: %v", n, brokenMsg.Load())
	}
	// Every family still refreshes, on every instance in turn.
	for f, rt := range rts {
		status, next, err := tokenRequest(bases()[f%3], url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {loginClient}})
		if err != nil || status != 200 || next == "" {
			t.Fatalf("family %d after the run: %d %v", f, status, err)
		}
	}
}
