package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDisableUserAcrossProcesses: three signet processes on one
// PostgreSQL schema. A user added with `signet users add` (another
// process) signs in on the first instance and refreshes on the second;
// `signet users disable` (another process again) ends both their refresh
// token and their login session on every instance: the very next refresh
// on the third instance is refused, and the session cookie no longer
// signs them in on the second.
func TestDisableUserAcrossProcesses(t *testing.T) {
	_, dsn := newSchema(t)
	needCluster(t)
	cfg := writeLoginConfig(t, "")
	ins := make([]*instance, 3)
	for i := range ins {
		ins[i] = newInstance(t, "instance-"+string(rune('1'+i)), cfg, dsn)
	}
	startTogether(t, ins...)
	for _, in := range ins {
		in.waitReady(t)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	add := exec.CommandContext(ctx, binary, "users", "add", "carol", "--config", cfg, "--subject", "u-carol")
	add.Env = commandEnv(dsn)
	add.Stdin = strings.NewReader("carol's cluster passphrase\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("users add: %v\n%s", err, out)
	}

	// Sign in on instance 1 (cookies by hand: the issuer is https, the
	// test talks plain HTTP).
	sum := sha256.Sum256([]byte(loginVerifier))
	authorize := issuer + "/connect/authorize?" + url.Values{"response_type": {"code"}, "client_id": {loginClient}, "redirect_uri": {loginRedirect},
		"scope": {"openid offline_access"}, "state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}.Encode()
	do := func(req *http.Request) answer {
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return answer{status: resp.StatusCode, header: resp.Header, body: body}
	}
	get := func(base, u, cookie string) answer {
		req, _ := http.NewRequest("GET", strings.Replace(u, issuer, base, 1), nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		return do(req)
	}
	a := get(ins[0].base, authorize, "")
	lp := get(ins[0].base, a.header.Get("Location"), "")
	var cookies []string
	for _, ck := range (&http.Response{Header: lp.header}).Cookies() {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	form := url.Values{"username": {"carol"}, "password": {"carol's cluster passphrase"}}
	for _, m := range reLoginField.FindAllStringSubmatch(string(lp.body), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	req, _ := http.NewRequest("POST", ins[0].base+"/account/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	login := do(req)
	cb, _ := url.Parse(login.header.Get("Location"))
	if cb == nil || cb.Query().Get("code") == "" {
		t.Fatalf("sign-in as carol: %v", login)
	}
	for _, ck := range (&http.Response{Header: login.header}).Cookies() {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	session := strings.Join(cookies, "; ")
	c := &retryingClient{bases: func() []string { return []string{ins[0].base, ins[1].base, ins[2].base} }}
	tok, rt, _ := c.token(0, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {loginRedirect}, "client_id": {loginClient}, "code_verifier": {loginVerifier}})
	if tok.status != 200 || rt == "" {
		t.Fatalf("code exchange: %v", tok)
	}
	rt, err := c.refresh(1, rt) // on instance 2
	if err != nil {
		t.Fatal(err)
	}
	// Instance 2 honours the session: a code at once.
	if a := get(ins[1].base, authorize, session); !strings.HasPrefix(a.header.Get("Location"), loginRedirect+"?code=") {
		t.Fatalf("instance 2 before disable: %v %s", a, a.header.Get("Location"))
	}

	if out, _, err := signet(ctx, dsn, "users", "disable", "carol", "--config", cfg); err != nil || !strings.Contains(out, "disabled carol; ended ") {
		t.Fatalf("users disable: %v %s", err, out)
	}
	// The next requests, with no wait: refused on instance 3, the session
	// gone on instance 2.
	a, _, _ = c.token(2, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {loginClient}})
	if a.status != http.StatusBadRequest || !bytes.Contains(a.body, []byte(`"invalid_grant"`)) {
		t.Errorf("refresh on instance 3 after disable: %v", a)
	}
	if a := get(ins[1].base, authorize, session); !strings.Contains(a.header.Get("Location"), "/account/login") {
		t.Errorf("instance 2 after disable: %v %s, want the login page", a, a.header.Get("Location"))
	}
}
