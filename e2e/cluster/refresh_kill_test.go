package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
// that signs in and refreshes, with refreshTokenReuseInterval reuse
// ("": the default, 30s).
func writeLoginConfig(t *testing.T, reuse string) string {
	t.Helper()
	cmd := exec.Command(binary, "hash-password")
	cmd.Stdin = strings.NewReader(loginPassword)
	hash, err := cmd.Output()
	if err != nil {
		t.Fatalf("hash-password: %v", err)
	}
	if reuse != "" {
		reuse = "\n    refreshTokenReuseInterval: " + reuse
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
    redirectUris: [ %q ]%s
users:
  - { subject: u-alice, username: %s, passwordHash: %q }
`, issuer, loginClient, loginRedirect, reuse, loginUser, strings.TrimSpace(string(hash)))
	path := filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var reLoginField = regexp.MustCompile(`name="(request|csrf)" value="([^"]*)"`)

var noRedirect = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// answer is what one HTTP exchange gave a client.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error // no answer: refused, reset, timed out
}

// retryable reports whether a retrying client tries a again: no answer
// (the instance died, or is not listening yet) or a 5xx (502, 503: try
// again shortly).
func (a answer) retryable() bool { return a.err != nil || a.status >= 500 }

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}

// retryingClient is what the cluster's users do when an instance dies:
// a request with no answer or a 5xx is sent again, the same, to the next
// instance (at most 50 times). Anything else it got back is an answer.
type retryingClient struct {
	bases func() []string // the instances' base URLs, live ones first
	// retries counts the requests sent again.
	retries atomic.Int64
}

// do sends the request that build makes for base, from base number
// first, until an answer is not retryable; lost reports whether an
// earlier try of it went unanswered (it may have been carried out).
func (c *retryingClient) do(first int, build func(base string) *http.Request) (a answer, lost bool) {
	for try := range 50 {
		bs := c.bases()
		if len(bs) == 0 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		base := bs[(first+try)%len(bs)]
		resp, err := noRedirect.Do(build(base))
		a = answer{err: err}
		if err == nil {
			a.status, a.header = resp.StatusCode, resp.Header
			a.body, a.err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if !a.retryable() {
			return a, lost
		}
		lost = lost || a.err != nil
		c.retries.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
	return answer{err: fmt.Errorf("no instance answered in 50 tries (last: %v)", a)}, lost
}

// token posts form to the token endpoint.
func (c *retryingClient) token(first int, form url.Values) (a answer, rt string, lost bool) {
	a, lost = c.do(first, func(base string) *http.Request {
		req, _ := http.NewRequest("POST", base+"/connect/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	})
	var tr struct {
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal(a.body, &tr)
	return a, tr.RefreshToken, lost
}

// refresh uses rt once and returns its successor. Anything but a 200
// after the retries is an error: the family is broken.
func (c *retryingClient) refresh(first int, rt string) (string, error) {
	a, next, _ := c.token(first, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {loginClient}})
	if a.err != nil || a.status != 200 || next == "" {
		return "", fmt.Errorf("refresh: %v", a)
	}
	return next, nil
}

// signIn runs the code flow of a new browser (authorize, the login page,
// the login, the code exchange) and returns the refresh token. Each step
// is retried on its own. A code exchange whose earlier try went
// unanswered and that then gets invalid_grant had its code used by that
// try (the answer died with its instance): no token of it was seen, and
// the client starts the sign-in again, as an application does when a code
// fails; restarts counts those. Any other error is a failed sign-in.
// Cookies are carried by hand: the issuer is https, so they are Secure,
// and the test talks plain HTTP.
func (c *retryingClient) signIn(first int) (rt string, restarts int, err error) {
	for restarts = 0; restarts < 3; restarts++ {
		rt, lostCode, err := c.signInOnce(first + restarts)
		if err == nil || !lostCode {
			return rt, restarts, err
		}
	}
	return "", restarts, errors.New("sign-in: three codes lost in a row")
}

// signInOnce is one try of signIn; lostCode reports a code exchange that
// failed with invalid_grant after a try that went unanswered.
func (c *retryingClient) signInOnce(first int) (rt string, lostCode bool, err error) {
	sum := sha256.Sum256([]byte(loginVerifier))
	q := url.Values{"response_type": {"code"}, "client_id": {loginClient}, "redirect_uri": {loginRedirect},
		"scope": {"openid offline_access"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	get := func(u string) func(string) *http.Request {
		return func(base string) *http.Request {
			req, _ := http.NewRequest("GET", strings.Replace(u, issuer, base, 1), nil)
			return req
		}
	}
	a, _ := c.do(first, get(issuer+"/connect/authorize?"+q.Encode()))
	if a.err != nil || a.status != http.StatusFound {
		return "", false, fmt.Errorf("authorize: %v", a)
	}
	a, _ = c.do(first, get(a.header.Get("Location")))
	if a.err != nil || a.status != 200 {
		return "", false, fmt.Errorf("login page: %v", a)
	}
	var cookies []string
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	form := url.Values{"username": {loginUser}, "password": {loginPassword}}
	for _, m := range reLoginField.FindAllStringSubmatch(string(a.body), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	a, _ = c.do(first, func(base string) *http.Request {
		req, _ := http.NewRequest("POST", base+"/account/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		return req
	})
	cb, perr := url.Parse(a.header.Get("Location"))
	if a.err != nil || perr != nil || cb.Query().Get("code") == "" {
		return "", false, fmt.Errorf("login: %v, no code in %q", a, a.header.Get("Location"))
	}
	a, rt, lost := c.token(first, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {loginRedirect}, "client_id": {loginClient}, "code_verifier": {loginVerifier}})
	if a.err == nil && a.status == 200 && rt != "" {
		return rt, false, nil
	}
	lostCode = lost && a.status == http.StatusBadRequest && bytes.Contains(a.body, []byte(`"invalid_grant"`))
	return "", lostCode, fmt.Errorf("code exchange: %v", a)
}

// rates is a count of completions per bucket of time since a start.
type rates struct {
	start  time.Time
	bucket time.Duration
	n      [400]atomic.Int64
}

func (r *rates) done() {
	if i := int(time.Since(r.start) / r.bucket); i < len(r.n) {
		r.n[i].Add(1)
	}
}

// perSecond returns the rate of each bucket until total.
func (r *rates) perSecond(total time.Duration) []int64 {
	var out []int64
	for i := 0; i < int(total/r.bucket) && i < len(r.n); i++ {
		out = append(out, r.n[i].Load()*int64(time.Second/r.bucket))
	}
	return out
}

// dip summarises rs around a kill at killed: the median rate of the
// second before it, the lowest rate after it, how many buckets after it
// were below 80 % of that median, and when the last of those ended,
// counted from the kill (0: none was).
func dip(rs []int64, bucket, killed time.Duration) (before, lowest int64, low int, settled time.Duration) {
	k := int(killed / bucket)
	pre := slices.Clone(rs[max(0, k-int(time.Second/bucket)):k])
	slices.Sort(pre)
	before = pre[len(pre)/2]
	lowest = slices.Min(rs[k:])
	for i := k; i < len(rs); i++ {
		if rs[i]*5 < before*4 {
			low++
			settled = time.Duration(i+1)*bucket - killed
		}
	}
	return before, lowest, low, settled
}

// TestRefreshSurvivesKill: 3 instances on one PostgreSQL schema serve
// refresh-token families and whole sign-ins (the code flow) under load;
// one is killed (SIGKILL) mid-load and restarted. Clients retry what went
// unanswered on another instance (retryingClient): a refresh retried
// within the reuse interval gets the successor the dead instance
// committed, if it did. No family breaks, every error a client saw was a
// retryable one (no answer, or a 5xx), and every sign-in completes; a
// sign-in whose code was used by a request that died with its instance
// starts again (counted). It logs the throughput per 250 ms and its dip
// and recovery around the kill. (The restarted instance has no password
// verification remembered: its first sign-ins each hash with argon2id,
// 64 MiB and 4 lanes, which on a small machine slows every instance for
// a second or two; with a cheap hash that dip is gone.)
//
// What it catches: a refresh answered before its write was durable, or a
// retry of a refresh whose answer died treated as a reuse (the family is
// revoked: 400); TestLostAnswerRetried shows, without a kill, that this
// client reports the second as a broken family.
func TestRefreshSurvivesKill(t *testing.T) {
	_, dsn := newSchema(t)
	needCluster(t)
	cfg := writeLoginConfig(t, "")
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
	c := &retryingClient{bases: func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, in := range ins {
			if !in.hasExited() && in.base != "" {
				out = append(out, in.base)
			}
		}
		return out
	}}

	const families, signers = 12, 3
	rts := make([]string, families)
	for i := range rts {
		rt, _, err := c.signIn(i)
		if err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
		rts[i] = rt
	}

	const bucket = 250 * time.Millisecond
	start := time.Now()
	refreshes, signIns := &rates{start: start, bucket: bucket}, &rates{start: start, bucket: bucket}
	var (
		stop      atomic.Bool
		broken    atomic.Int64
		brokenMsg atomic.Value
		restarts  atomic.Int64
		signedMu  sync.Mutex
		signed    []string // refresh tokens of the sign-ins under load
	)
	fail := func(format string, args ...any) {
		broken.Add(1)
		brokenMsg.CompareAndSwap(nil, fmt.Sprintf(format, args...))
	}
	var wg sync.WaitGroup
	for f := range families {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				next, err := c.refresh(f+n, rts[f])
				if err != nil {
					fail("family %d: %v", f, err)
					return
				}
				rts[f] = next
				refreshes.done()
			}
		})
	}
	for w := range signers {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				rt, restarted, err := c.signIn(w + n)
				restarts.Add(int64(restarted))
				if err != nil {
					fail("sign-in %d/%d: %v", w, n, err)
					return
				}
				signedMu.Lock()
				signed = append(signed, rt)
				signedMu.Unlock()
				signIns.done()
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

	for _, r := range []struct {
		name string
		r    *rates
	}{{"refreshes", refreshes}, {"sign-ins", signIns}} {
		rs := r.r.perSecond(total)
		before, lowest, low, settled := dip(rs, bucket, killedAt)
		t.Logf("%s/s per 250 ms: %v", r.name, rs)
		t.Logf("%s: %d/s (median) in the second before the kill, lowest %d/s after it; %d buckets below 80 %%, the last ending %v after the kill",
			r.name, before, lowest, low, settled.Round(time.Millisecond))
	}
	t.Logf("killed at %s, restarted instance ready at %s; %d requests retried, %d sign-ins started again (their code's answer died with the instance)",
		killedAt.Round(time.Millisecond), back.Round(time.Millisecond), c.retries.Load(), restarts.Load())
	if n := broken.Load(); n > 0 {
		t.Fatalf("%d broken families or failed sign-ins: %v", n, brokenMsg.Load())
	}
	if len(signed) == 0 {
		t.Fatal("no sign-in completed under load")
	}
	// Every family still refreshes, on every instance in turn, and so
	// does every family a sign-in under load started.
	for f, rt := range append(rts, signed...) {
		if _, err := c.refresh(f, rt); err != nil {
			t.Fatalf("family %d after the run: %v", f, err)
		}
	}
}

// dropFront is a front for one instance that drops chosen answers: it
// sends the request on, waits for the whole answer (the instance did what
// was asked), then closes the client's connection without it, as the
// kill of an instance between its commit and its answer does.
type dropFront struct {
	*httptest.Server
	drop atomic.Int64 // answers of POST /connect/token still to drop
}

func newDropFront(t *testing.T, upstream string) *dropFront {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	f := &dropFront{}
	rp := httputil.NewSingleHostReverseProxy(u)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/connect/token" || f.drop.Add(-1) < 0 {
			rp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// TestLostAnswerRetried: the answer of a refresh (and of a code exchange)
// that its instance carried out is lost on the way, and the retrying
// client of TestRefreshSurvivesKill sends the request again to another
// instance. With a reuse interval (the default) the family goes on; the
// lost code's sign-in starts again. Without one (refreshTokenReuseInterval
// 0s) the retry is a reuse, the family is revoked, and the client reports
// it broken: the failure the kill test exists to catch.
func TestLostAnswerRetried(t *testing.T) {
	needCluster(t)
	for _, tc := range []struct {
		reuse      string
		wantBroken bool
	}{{"", false}, {"0s", true}} {
		t.Run("reuse="+tc.reuse, func(t *testing.T) {
			_, dsn := newSchema(t)
			cfg := writeLoginConfig(t, tc.reuse)
			a, b := newInstance(t, "instance-a", cfg, dsn), newInstance(t, "instance-b", cfg, dsn)
			startTogether(t, a, b)
			a.waitReady(t)
			b.waitReady(t)
			front := newDropFront(t, a.base)
			c := &retryingClient{bases: func() []string { return []string{front.URL, b.base} }}

			front.drop.Store(1) // the code exchange's answer
			rt, restarts, err := c.signIn(0)
			if err != nil || restarts != 1 {
				t.Fatalf("sign-in with its code exchange's answer lost: %d restarts, %v; want 1 restart and a token", restarts, err)
			}
			front.drop.Store(1) // the refresh's answer
			next, err := c.refresh(0, rt)
			if retried := c.retries.Load(); retried != 2 {
				t.Fatalf("%d requests retried, want 2 (the lost answers)", retried)
			}
			if tc.wantBroken {
				if err == nil {
					t.Fatal("the retry of a refresh whose answer was lost succeeded without a reuse interval")
				}
				t.Logf("without a reuse interval the retry breaks the family: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("retry of a refresh whose answer was lost: %v", err)
			}
			if _, err := c.refresh(0, next); err != nil {
				t.Fatalf("the family after the retried refresh: %v", err)
			}
		})
	}
}
