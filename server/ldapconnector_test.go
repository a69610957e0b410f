package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/connector/ldap"
	"github.com/signet-id/signet/connector/ldap/ldaptest"
)

// ldapEnv is a server whose login page offers the test directory (id
// corp) and a directory that does not answer (id down).
type ldapEnv struct {
	*loginEnv
	dir ldaptest.Directory
	reg *prometheus.Registry
}

func newLDAPEnv(t *testing.T, mod ...func(*ldap.Config)) *ldapEnv {
	t.Helper()
	d := ldaptest.Open(t)
	reg := prometheus.NewRegistry()
	metrics, err := connector.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ldap.Config{ID: "corp", Name: "Acme directory", URL: d.LDAPSURL, CAFile: d.CA,
		BindDN: d.BindDN, BindPassword: d.BindPassword,
		UserSearch: ldap.UserSearch{BaseDN: "ou=people," + d.BaseDN, Filter: "(objectClass=inetOrgPerson)",
			Username: "uid", IDAttr: "entryUUID", EmailAttr: "mail", NameAttr: "cn"},
		GroupSearch: ldap.GroupSearch{BaseDN: "ou=groups," + d.BaseDN, Filter: "(objectClass=groupOfNames)",
			UserMatchers: []ldap.UserMatcher{{UserAttr: "DN", GroupAttr: "member"}}, NameAttr: "cn"}}
	for _, m := range mod {
		m(&cfg)
	}
	opts := ldap.Options{Metrics: metrics, Store: connector.NewMemoryStore()}
	corp, err := ldap.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { corp.Close() })
	// A port nothing listens on: the directory is down.
	cfg.ID, cfg.Name, cfg.URL = "down", "Old directory", "ldaps://127.0.0.1:1"
	down, err := ldap.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	set, err := connector.NewSet(corp, down)
	if err != nil {
		t.Fatal(err)
	}
	e := newLoginEnv(t, func(c *Config) { c.Connectors, c.Registry = set, reg })
	return &ldapEnv{loginEnv: e, dir: d, reg: reg}
}

// connectorForm follows q to the login page, presses the button of
// connector id and returns its form.
func (e *ldapEnv) connectorForm(b *browser, q url.Values, id string) page {
	e.t.Helper()
	p := b.authorize(q)
	lp := b.get(p.Header.Get("Location"))
	if !strings.Contains(lp.body, `name="connector" value="`+id+`"`) {
		e.t.Fatalf("no button for %s on the login page:\n%s", id, lp.body)
	}
	f := formFields(e.t, lp.body)
	f.Set("connector", id)
	form := b.post(e.issuer+PathLogin, f)
	if form.StatusCode != http.StatusOK || !strings.Contains(form.body, `name="connector_form" value="1"`) {
		e.t.Fatalf("connector form: %d\n%s", form.StatusCode, form.body)
	}
	return form
}

// submitConnector sends a password connector's form.
func (e *ldapEnv) submitConnector(b *browser, form page, id, username, password string) page {
	f := formFields(e.t, form.body)
	f.Set("connector", id)
	f.Set("connector_form", "1")
	f.Set("username", username)
	f.Set("password", password)
	return b.post(e.issuer+PathLogin, f)
}

func (e *ldapEnv) connectorErrors(id, kind string) float64 {
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "signet_connector_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var conn, k string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "connector":
					conn = l.GetValue()
				case "kind":
					k = l.GetValue()
				}
			}
			if conn == id && k == kind {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

// Signing in through the directory's button: the tokens name the
// directory's subject, userinfo has its claims and groups, and a refresh
// after an administrator locked the account is refused.
func TestLDAPConnectorSignIn(t *testing.T) {
	e := newLDAPEnv(t)
	b := e.browser()
	q := spaRequest("login_hint", "grace")
	form := e.connectorForm(b, q, "corp")
	if !strings.Contains(form.body, `value="grace"`) {
		t.Errorf("the form does not carry login_hint:\n%s", form.body)
	}
	cb := e.callback(e.submitConnector(b, form, "corp", "grace", "grace-password"), spaRedirect)
	tok := e.tokens(e.exchange(cb.Get("code"), verifierForSPA))
	sub := "corp:" + e.dir.EntryUUID(t, "grace")
	if _, idt := e.jwtParts(tok.IDToken); idt["sub"] != sub || fmt.Sprint(idt["amr"]) != "[pwd]" {
		t.Fatalf("ID token sub %v amr %v, want %s and [pwd]", idt["sub"], idt["amr"], sub)
	}
	ui := e.userinfo(tok.AccessToken)
	for _, want := range []string{`"sub":"` + sub + `"`, `"email":"grace@signet.test"`, `"name":"Grace Hopper"`, `"preferred_username":"grace"`, `"groups":[]`} {
		if !strings.Contains(ui.body, want) {
			t.Errorf("userinfo %s lacks %s", ui.body, want)
		}
	}
	rt := e.tokens(e.refresh(tok.RefreshToken)).RefreshToken

	e.dir.Lock(t, "grace")
	e.oauthErr(e.refresh(rt), http.StatusBadRequest, "invalid_grant")
}

// The directory's form counts attempts as the password form does, and
// its usernames as the directory matches them: "ALICE" and " alice"
// spend alice's budget.
func TestLDAPConnectorThrottled(t *testing.T) {
	e := newLDAPEnv(t)
	b := e.browser()
	form := e.connectorForm(b, spaRequest(), "corp")
	for i, name := range []string{"alice", "ALICE", " alice", "Alice ", "aLiCe"} {
		p := e.submitConnector(b, form, "corp", name, "wrong")
		if p.StatusCode != http.StatusOK || !strings.Contains(p.body, msgBadCredentials) {
			t.Fatalf("wrong password %d: %d %s", i, p.StatusCode, p.body)
		}
	}
	p := e.submitConnector(b, form, "corp", "alIce", "alice-password")
	if p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d %s; want 429 with Retry-After", p.StatusCode, p.body)
	}
	// Another user of the directory is not held back.
	if cb := e.callback(e.submitConnector(b, form, "corp", "bob", "bob-password"), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("bob: %v", cb)
	}
}

// A directory that does not answer: a "try again" page (503,
// Retry-After), the metric, and the attempt is not counted (the sixth
// would be 429).
func TestLDAPConnectorOutage(t *testing.T) {
	e := newLDAPEnv(t)
	b := e.browser()
	form := e.connectorForm(b, spaRequest(), "down")
	for range 6 {
		p := e.submitConnector(b, form, "down", "alice", "alice-password")
		if p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" ||
			!strings.Contains(p.body, "Old directory cannot be reached right now. Please try again in a moment.") {
			t.Fatalf("directory down: %d %s", p.StatusCode, p.body)
		}
	}
	if n := e.connectorErrors("down", ldap.KindNetwork); n != 6 {
		t.Fatalf(`signet_connector_errors_total{connector="down",kind="network"} = %v, want 6`, n)
	}
	if n := e.connectorErrors("corp", ldap.KindNetwork); n != 0 {
		t.Fatalf(`signet_connector_errors_total{connector="corp",kind="network"} = %v, want 0`, n)
	}
}

// cutProxy forwards a loopback port to the directory until cut: the
// directory goes away for one test without stopping it for the others.
type cutProxy struct {
	t      *testing.T
	addr   string // 127.0.0.1:port, kept across cut and restore
	target string
	mu     sync.Mutex // guards ln and conns
	ln     net.Listener
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{t: t, addr: ln.Addr().String(), target: target}
	p.serve(ln)
	t.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(u, c); u.Close() })
			p.wg.Go(func() { io.Copy(c, u); c.Close() })
		}
	})
}

// cut closes the listener and every connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same port.
func (p *cutProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

// A refresh while the directory is away answers 503 and keeps the
// refresh token; once it is back the same token refreshes.
func TestLDAPConnectorRefreshOutage(t *testing.T) {
	d := ldaptest.Open(t)
	u, err := url.Parse(d.LDAPSURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	e := newLDAPEnv(t, func(c *ldap.Config) { c.URL = "ldaps://" + proxy.addr })
	b := e.browser()
	form := e.connectorForm(b, spaRequest(), "corp")
	cb := e.callback(e.submitConnector(b, form, "corp", "bob", "bob-password"), spaRedirect)
	rt := e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).RefreshToken

	proxy.cut()
	p := e.refresh(rt)
	e.oauthErr(p, http.StatusServiceUnavailable, "temporarily_unavailable")
	// The cut is counted; its kind depends on where the connection was
	// when it was cut (refused or lost: network; inside the TLS layer:
	// tls; during the service bind: service_bind, ...).
	var n float64
	kinds := map[string]float64{}
	for _, k := range []string{ldap.KindNetwork, ldap.KindTLS, ldap.KindServiceBind, ldap.KindDirectory, ldap.KindBusy} {
		kinds[k] = e.connectorErrors("corp", k)
		n += kinds[k]
	}
	if n < 1 {
		t.Fatalf(`signet_connector_errors_total{connector="corp"} by kind = %v during the outage; want at least one`, kinds)
	}
	proxy.restore()
	if next := e.tokens(e.refresh(rt)); next.AccessToken == "" {
		t.Fatal("no access token after the directory came back")
	}
}
