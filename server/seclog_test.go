package server

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// logLine returns the line of logs with msg whose attributes match re.
func logLine(t *testing.T, logs, msg, re string) string {
	t.Helper()
	r := regexp.MustCompile(`(?m)^.*msg="` + regexp.QuoteMeta(msg) + `".*` + re + `.*$`)
	l := r.FindString(logs)
	if l == "" {
		t.Errorf("no %q log line matching %s in:\n%s", msg, re, logs)
	}
	return l
}

// Failed client authentication is logged at INFO with the client id, the
// address and the reason, never the secret.
func TestClientAuthFailureLogs(t *testing.T) {
	e := newLoginEnv(t)
	e.token(url.Values{"grant_type": {"client_credentials"}}, "billing", "Wrong-Secret-123")
	e.token(url.Values{"grant_type": {"client_credentials"}}, "nobody", "Other-Secret-456")
	e.token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "web", "Web-Wrong-789")
	e.token(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"web"}})
	req, _ := http.NewRequest("POST", e.issuer+PathIntrospect, strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("reports", "Resource-Wrong-000")
	e.do(nil, req)
	req, _ = http.NewRequest("POST", e.issuer+PathToken, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic bm9jb2xvbg==") // "nocolon"
	e.do(nil, req)

	logs := e.logs.String()
	for _, c := range [][3]string{
		{"client authentication failed", "billing", `reason="wrong secret"`},
		{"client authentication failed", "nobody", `reason="unknown client"`},
		{"client authentication failed", "web", `reason="wrong secret"`},
		{"client authentication failed", "web", `reason="no secret from a confidential client"`},
		{"API resource authentication failed", "reports", `reason="wrong secret"`},
		{"client authentication failed", `""`, `reason="malformed Basic credentials"`},
	} {
		l := logLine(t, logs, c[0], `client_id=`+c[1]+` address=127\.0\.0\.1 `+regexp.QuoteMeta(c[2]))
		if l != "" && !strings.Contains(l, "level=INFO") {
			t.Errorf("not at INFO: %s", l)
		}
	}
	for _, secret := range []string{"Wrong-Secret-123", "Other-Secret-456", "Web-Wrong-789", "Resource-Wrong-000"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a presented secret reached the logs: %s", secret)
		}
	}
}

// A failed sign-in names the username and the address.
func TestSignInFailureLog(t *testing.T) {
	e := newLoginEnv(t)
	p := e.browser().signIn(spaRequest(), "alice", "not her password")
	if p.StatusCode != 200 {
		t.Fatalf("%d", p.StatusCode)
	}
	logLine(t, e.logs.String(), "sign-in failed", `username=alice client_id=spa address=127\.0\.0\.1`)
	if strings.Contains(e.logs.String(), "not her password") {
		t.Error("the password reached the logs")
	}
}

// An expired code and a reused one are told apart in the logs.
func TestCodeExpiredAndReusedLogs(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	expired := e.code(b, spaRequest())
	e.clock.Add(CodeLifetime + 5*time.Second)
	e.oauthErr(e.exchange(expired, verifierForSPA), http.StatusBadRequest, "invalid_grant")
	logLine(t, e.logs.String(), "authorization code refused", `reason="expired 5s ago" client_id=spa sub=user-alice`)

	used := e.code(e.browser(), spaRequest())
	e.tokens(e.exchange(used, verifierForSPA))
	e.oauthErr(e.exchange(used, verifierForSPA), http.StatusBadRequest, "invalid_grant")
	logs := e.logs.String()
	logLine(t, logs, "authorization code used twice; revoking the tokens it issued", `client_id=spa`)
	if strings.Count(logs, `msg="authorization code refused"`) != 1 {
		t.Errorf("the reuse was logged as a refusal too:\n%s", logs)
	}
}
