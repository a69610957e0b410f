package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// measurePeer runs the flows against oidc-provider (bench/peer), started
// with node from o.peerDir on serverCPU.
func measurePeer(ctx context.Context, o *statefulOptions, cores int, log io.Writer) []statefulRow {
	fail := func(err error) []statefulRow {
		return []statefulRow{{Server: "oidc-provider", Cores: cores, Store: "memory", Error: err.Error()}}
	}
	secret, err := newSecret()
	if err != nil {
		return fail(err)
	}
	pr, pw := io.Pipe()
	c, err := startPinnedCPUs("oidc-provider", serverCPUs(cores), "node", []string{filepath.Join(o.peerDir, "oidc-provider.mjs")},
		[]string{"PEER_INTROSPECT_SECRET=" + secret, "NODE_ENV=production"}, pw, nil)
	if err != nil {
		return fail(err)
	}
	defer c.stop()
	addr := make(chan string, 1)
	go func() { // ends when the child's stdout closes (stop)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var m struct{ Addr string }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Addr != "" {
				select {
				case addr <- m.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	defer pw.Close()
	var a string
	select {
	case a = <-addr:
	case <-c.done:
		return fail(c.exitErr(errors.New("oidc-provider exited during start-up")))
	case <-time.After(startTimeout):
		return fail(errors.New("oidc-provider did not start: " + c.tail.String()))
	}
	f := &peerFlows{base: "http://" + a, secret: secret}
	var rows []statefulRow
	for _, flow := range o.flows {
		if strings.HasPrefix(flow, "client_credentials") { // _rs256, _dpop too
			continue // not configured in the peer
		}
		fmt.Fprintf(log, "bench: oidc-provider %s, %d core(s)\n", flow, cores)
		row := measureFlow(ctx, o, "oidc-provider", nil, flow, f, c.pid())
		row.Cores = cores
		rows = append(rows, row)
	}
	return rows
}

// peerFlows are oidc-provider's operations.
type peerFlows struct {
	base, secret string
}

var reFormAction = regexp.MustCompile(`action="([^"]+)"`)

// redirect sends a request that must answer with a redirect and returns
// its absolute target.
func (f *peerFlows) redirect(c *http.Client, method, u string, form url.Values) (string, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return "", nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return "", b, fmt.Errorf("%s %s: %d, want a redirect: %.200s", method, u, resp.StatusCode, b)
	}
	loc := resp.Header.Get("Location")
	if strings.HasPrefix(loc, "/") {
		loc = f.base + loc
	}
	return loc, b, nil
}

// signIn is the whole code flow of a new browser: authorize, the login
// interaction (page and post), the resumed authorization, the code
// exchange.
func (f *peerFlows) signIn(c *http.Client, laps *stepLaps) (tokens, error) {
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	defer func() { c.Jar = nil }()
	q := url.Values{"response_type": {"code"}, "client_id": {statefulClient}, "redirect_uri": {statefulRedirect},
		"scope": {"openid offline_access"}, "state": {"s"}, "code_challenge": {pkceChallenge(statefulVerifier)},
		"code_challenge_method": {"S256"}}
	loc, _, err := f.redirect(c, "GET", f.base+"/auth?"+q.Encode(), nil)
	if err != nil {
		return tokens{}, err
	}
	laps.lap("authorize")
	_, page, err := do(c, "GET", loc, nil, 200)
	if err != nil {
		return tokens{}, err
	}
	laps.lap("login page")
	m := reFormAction.FindSubmatch(page)
	if m == nil {
		return tokens{}, errors.New("oidc-provider: no login form")
	}
	action := htmlUnescape(string(m[1]))
	if strings.HasPrefix(action, "/") {
		action = f.base + action
	}
	loc, _, err = f.redirect(c, "POST", action, url.Values{"prompt": {"login"}, "login": {statefulUser}, "password": {statefulPassword}})
	if err != nil {
		return tokens{}, err
	}
	laps.lap("login")
	for range 4 { // the resumed authorization redirects to the client (or to consent)
		if strings.HasPrefix(loc, statefulRedirect) {
			break
		}
		if loc, _, err = f.redirect(c, "GET", loc, nil); err != nil {
			return tokens{}, err
		}
	}
	laps.lap("resume")
	cb, err := url.Parse(loc)
	if err != nil || cb.Query().Get("code") == "" {
		return tokens{}, fmt.Errorf("oidc-provider: no code in %q", loc)
	}
	t, err := tokenCall(c, f.base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {statefulRedirect}, "client_id": {statefulClient}, "code_verifier": {statefulVerifier}}, "", "")
	laps.lap("token")
	return t, err
}

func (f *peerFlows) refresh(c *http.Client, rt string) (tokens, error) {
	return tokenCall(c, f.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {statefulClient}}, "", "")
}

func (f *peerFlows) clientCredentials(*http.Client, string) error {
	return errors.New("client_credentials is not configured in the peer")
}

func (f *peerFlows) introspect(c *http.Client, at string) error {
	return introspectCall(c, f.base+"/token/introspection", at, "api", f.secret)
}
