package connect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

const (
	username = "alice"
	password = "correct horse battery staple"
	subject  = "2f0d6a8e-5b7c-4f6e-9a1d-3c4b5a6d7e8f"
	// guideIssuer and guideAppURL are what the guides' YAML blocks say;
	// the tests put their own addresses in their place.
	guideIssuer = "https://login.example.com"
	guideAppURL = "http://127.0.0.1:3000"
)

var (
	// bins holds the binaries TestMain built, by name (signet, goweb,
	// goapi).
	bins = map[string]string{}
	// unavailable says why no test can run; nil when they can.
	unavailable error
	// repoRoot is the module's root directory.
	repoRoot string
)

func TestMain(m *testing.M) {
	flag.Parse()
	var dir string
	repoRoot, unavailable = filepath.Abs("../..")
	switch {
	case unavailable != nil:
	case testing.Short():
		unavailable = errors.New("the connect tests build and run processes: skipped with -short")
	default:
		dir, unavailable = os.MkdirTemp("", "signet-connect-")
		for _, name := range []string{"cmd/signet", "examples/connect/goweb", "examples/connect/goapi"} {
			if unavailable != nil {
				break
			}
			bin := filepath.Join(dir, filepath.Base(name))
			bins[filepath.Base(name)] = bin
			unavailable = goBuild(bin, "github.com/signet-id/signet/"+name)
		}
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func goBuild(bin, pkg string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("cannot build %s: %w", pkg, err)
	}
	if out, err := exec.Command(goTool, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		return fmt.Errorf("%s does not build: %v\n%s", pkg, err, out)
	}
	return nil
}

func needBinaries(t *testing.T) {
	t.Helper()
	if unavailable != nil {
		t.Skip(unavailable)
	}
}

// freeAddr returns a loopback address that was free a moment ago (the
// apps and Signet need their URLs before they start).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is a started command whose output is logged when the test fails.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
}

// start runs a command until the test ends, then interrupts it (kills it
// after 5 s).
func start(t *testing.T, name, dir string, env []string, exe string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(exe, args...), out: &syncBuffer{}}
	p.cmd.Dir, p.cmd.Stdout, p.cmd.Stderr = dir, p.out, p.out
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// waitHTTP waits until url answers (any status).
func waitHTTP(t *testing.T, p *process, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if p.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer at %s\noutput:\n%s", p.name, url, p.out)
}

// signet is a running `signet serve`.
type signet struct {
	issuer, admin string
}

// guideBlock returns the single ```yaml block of docs/connect/<name>.md.
func guideBlock(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs/connect", name+".md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlockRE.FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 1 {
		t.Fatalf("docs/connect/%s.md has %d yaml blocks, want 1 (the client configuration)", name, len(blocks))
	}
	return blocks[0][1]
}

var yamlBlockRE = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// startSignet runs `signet serve` with the guide's block (its issuer and
// app URL replaced by the test's) and the user alice.
func startSignet(t *testing.T, block, appURL string) *signet {
	t.Helper()
	return startSignetWith(t, block, appURL, "keyManagement:\n  signingAlgorithms: [ ES256, RS256 ]\n")
}

// startSignetWith is startSignet with another keyManagement section and
// more arguments for serve.
func startSignetWith(t *testing.T, block, appURL, keyManagement string, args ...string) *signet {
	t.Helper()
	needBinaries(t)
	dir := t.TempDir()
	addr, admin := freeAddr(t), freeAddr(t)
	s := &signet{issuer: "http://" + addr, admin: "http://" + admin}
	block = strings.ReplaceAll(block, guideAppURL, appURL)
	block = regexp.MustCompile(`(?m)^issuer:.*\n`).ReplaceAllString(block, "")
	cfg := fmt.Sprintf(`issuer: %s
listen: %s
adminListen: %s
storage: { driver: sqlite, dsn: ./signet.db }
%susers:
  - subject: %s
    username: %s
    passwordHash: "%s"
    claims: { name: Alice Liddell, email: alice@example.com, email_verified: true }
%s`, s.issuer, addr, admin, keyManagement, subject, username, cheapHash(password), block)
	if err := os.WriteFile(filepath.Join(dir, "signet.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "signet", dir, nil, bins["signet"], append([]string{"serve", "--config", "signet.yaml", "--log-level", "debug"}, args...)...)
	waitHTTP(t, p, s.admin+"/readyz")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.issuer + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("signet never became ready\n%s", p.out)
	return nil
}

// cheapHash is an argon2id PHC string with the cheapest parameters Signet
// accepts (the tests sign in a few times; production uses
// `signet hash-password`).
func cheapHash(pw string) string {
	salt := []byte("connect-test-salt")
	h := argon2.IDKey([]byte(pw), salt, 1, 8, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=8,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}

// sha256Secret is the `signet hash-secret` form of a client secret.
func sha256Secret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(h[:])
}

// issued reads signet_tokens_issued_total for a grant type from the admin
// listener's metrics, summed over algorithms.
func (s *signet) issued(t *testing.T, grantType string) int {
	t.Helper()
	resp, err := http.Get(s.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	n := 0
	re := regexp.MustCompile(`(?m)^signet_tokens_issued_total\{[^}]*grant_type="` + regexp.QuoteMeta(grantType) + `"[^}]*\} (\d+)$`)
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// browser is an HTTP client with a cookie jar that follows redirects, as
// a browser does for these flows.
type browser struct {
	*http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{&http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// get fetches url and returns the final response's status, URL and body.
func (b *browser) get(t *testing.T, url string) (int, *url.URL, string) {
	t.Helper()
	resp, err := b.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return read(t, resp)
}

func (b *browser) post(t *testing.T, url string, form url.Values) (int, *url.URL, string) {
	t.Helper()
	resp, err := b.PostForm(url, form)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return read(t, resp)
}

func read(t *testing.T, resp *http.Response) (int, *url.URL, string) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Request.URL, string(body)
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenRE     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// isLoginPage says whether a page is Signet's login form.
func isLoginPage(u *url.URL, body string) bool {
	return strings.Contains(body, `name="password"`) && formActionRE.MatchString(body) && u.Path == "/account/login"
}

// signIn starts at the app's sign-in URL, posts alice's credentials on
// Signet's login page, follows the redirects back into the app and
// returns the last response.
func (b *browser) signIn(t *testing.T, start string) (int, *url.URL, string) {
	t.Helper()
	status, u, body := b.get(t, start)
	if status != 200 || !isLoginPage(u, body) {
		t.Fatalf("%s did not lead to Signet's login page: %d %s\n%s", start, status, u, body)
	}
	form := url.Values{"username": {username}, "password": {password}}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	action, err := u.Parse(html.UnescapeString(formActionRE.FindStringSubmatch(body)[1]))
	if err != nil {
		t.Fatal(err)
	}
	return b.post(t, action.String(), form)
}
