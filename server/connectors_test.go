package server

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/connector"
	connectoroidc "github.com/signet-id/signet/connector/oidc"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
)

// The upstream of these tests is a second Signet server (its own issuer,
// keys and users: alice and bob), at the host name "localhost" so that a
// browser keeps its cookies apart from the downstream's (127.0.0.1).
const (
	upstreamClient = "signet-down"
	upstreamSecret = "upstream-client-secret"
)

type fedEnv struct {
	up, down *loginEnv
	records  *connector.MemoryStore
	logs     *lockedBuffer // the connectors'
}

// newFedEnv starts the upstream and a downstream with connectors ids
// (OpenID Connect, all on the upstream), named "Upstream <id>".
func newFedEnv(t *testing.T, ids []string, mod ...func(*Config)) *fedEnv {
	t.Helper()
	f := newUpstream(t)
	f.records = connector.NewMemoryStore()
	set := f.connectors(t, ids, f.records, func() time.Time { return f.down.clock.Now() })
	f.down = newLoginEnv(t, append([]func(*Config){func(c *Config) { c.Connectors = set }}, mod...)...)
	f.registerDownstream(t, ids)
	return f
}

// newUpstream starts the upstream Signet (at "localhost").
func newUpstream(t *testing.T) *fedEnv {
	return &fedEnv{up: newLoginEnvAt(t, "localhost"), logs: &lockedBuffer{}}
}

// connectors returns the downstream's connectors ids on the upstream,
// keeping their records in store.
func (f *fedEnv) connectors(t *testing.T, ids []string, store connector.Store, now func() time.Time) *connector.Set {
	t.Helper()
	sealer, err := seal.New([][]byte{[]byte("connector-test-secret-0123456789")})
	if err != nil {
		t.Fatal(err)
	}
	var cs []connector.Connector
	for _, id := range ids {
		c, err := connectoroidc.New(connectoroidc.Config{ID: id, Name: "Upstream " + id, Issuer: f.up.issuer,
			ClientID: upstreamClient, ClientSecret: upstreamSecret, Scopes: []string{"openid", "profile", "email", "offline_access"},
			Store: store, Sealer: sealer, Now: now, Logger: testLogger(f.logs)})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	set, err := connector.NewSet(cs...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// registerDownstream makes the downstream a confidential client of the
// upstream, with the callbacks of connectors ids.
func (f *fedEnv) registerDownstream(t *testing.T, ids []string) {
	t.Helper()
	clients, resources := loginClients(t)
	var redirects []string
	for _, id := range ids {
		redirects = append(redirects, f.down.issuer+PathLogin+"/"+id+"/callback")
	}
	clients = append(clients, Client{ID: upstreamClient, Secrets: secretsOf(t, upstreamSecret),
		GrantTypes: []string{grantAuthorizationCode, grantRefreshToken}, IdentityScopes: []string{"openid", "profile", "email", "offline_access"},
		RedirectURIs: redirects, AccessTokenLifetime: 5 * time.Minute, RefreshTokenLifetime: 24 * time.Hour})
	if err := f.up.s.SetClients(clients, resources); err != nil {
		t.Fatal(err)
	}
}

var reConnectorButton = regexp.MustCompile(`<button type="submit" name="connector" value="([^"]*)"[^>]*>Sign in with ([^<]*)</button>`)

// buttons lists the connector buttons of a login page.
func buttons(body string) []string {
	var out []string
	for _, m := range reConnectorButton.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// loginPage follows an authorization request of the downstream to its
// login page.
func (f *fedEnv) loginPage(b *browser, q url.Values) page {
	f.up.t.Helper()
	p := b.authorize(q)
	if p.StatusCode != http.StatusFound {
		f.up.t.Fatalf("authorize: %d %s", p.StatusCode, p.body)
	}
	lp := b.get(p.Header.Get("Location"))
	if lp.StatusCode != 200 {
		f.up.t.Fatalf("login page: %d %s", lp.StatusCode, lp.body)
	}
	return lp
}

// begin presses connector id's button: the redirect to the upstream.
func (f *fedEnv) begin(b *browser, lp page, id string) *url.URL {
	t := f.up.t
	t.Helper()
	fields := formFields(t, lp.body)
	fields.Set("connector", id)
	p := b.post(f.down.issuer+PathLogin, fields)
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), f.up.issuer+PathAuthorize+"?") {
		t.Fatalf("connector button: want a redirect to the upstream, got %d %s %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	u, _ := url.Parse(p.Header.Get("Location"))
	return u
}

// upstreamSignIn signs in at the upstream (the browser follows upAuthz)
// and returns the upstream's redirect back to the downstream's callback.
func (f *fedEnv) upstreamSignIn(b *browser, upAuthz *url.URL, username, password string) *url.URL {
	t := f.up.t
	t.Helper()
	p := b.get(upAuthz.String())
	if p.StatusCode != http.StatusFound {
		t.Fatalf("upstream authorize: %d %s", p.StatusCode, p.body)
	}
	lp := b.get(p.Header.Get("Location"))
	if lp.StatusCode != 200 {
		t.Fatalf("upstream login page: %d %s", lp.StatusCode, lp.body)
	}
	fields := formFields(t, lp.body)
	fields.Set("username", username)
	fields.Set("password", password)
	back := b.post(f.up.issuer+PathLogin, fields)
	if back.StatusCode != http.StatusSeeOther && back.StatusCode != http.StatusFound {
		t.Fatalf("upstream sign-in: %d %s", back.StatusCode, back.body)
	}
	u, _ := url.Parse(back.Header.Get("Location"))
	if !strings.HasPrefix(u.String(), f.down.issuer+PathLogin+"/") {
		t.Fatalf("upstream sent the browser to %s", u)
	}
	return u
}

// federatedCode signs username in through connector id and returns the
// downstream's code for the spa client.
func (f *fedEnv) federatedCode(b *browser, id, username, password string) string {
	t := f.up.t
	t.Helper()
	cb := f.upstreamSignIn(b, f.begin(b, f.loginPage(b, spaRequest()), id), username, password)
	p := b.get(cb.String())
	q := f.down.callback(p, spaRedirect)
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code")
}

func secretsOf(t testing.TB, s string) []*clientauth.Secret {
	return []*clientauth.Secret{secret(t, "plain:"+s)}
}

func TestConnectorSignIn(t *testing.T) {
	f := newFedEnv(t, []string{"corp"})
	b := f.down.browser()
	lp := f.loginPage(b, spaRequest("login_hint", "alice", "prompt", "login"))
	if got := buttons(lp.body); !slices.Equal(got, []string{"corp"}) || !strings.Contains(lp.body, "Sign in with Upstream corp") {
		t.Fatalf("buttons %q in\n%s", got, lp.body)
	}
	if !strings.Contains(lp.body, `name="password"`) {
		t.Error("the downstream has local users: the password form must show")
	}
	up := f.begin(b, lp, "corp")
	q := up.Query()
	for name, want := range map[string]string{"client_id": upstreamClient, "response_type": "code", "code_challenge_method": "S256",
		"redirect_uri": f.down.issuer + PathLogin + "/corp/callback", "login_hint": "alice", "prompt": "login"} {
		if q.Get(name) != want {
			t.Errorf("upstream request %s = %q, want %q", name, q.Get(name), want)
		}
	}
	if len(q.Get("state")) < 43 || len(q.Get("nonce")) < 43 || len(q.Get("code_challenge")) != 43 || !strings.Contains(q.Get("scope"), "offline_access") {
		t.Errorf("upstream request lacks state, nonce or PKCE: %v", q)
	}
	cb := f.upstreamSignIn(b, up, "alice", alicePassword)
	if cb.Query().Get("iss") != f.up.issuer {
		t.Fatalf("the upstream sent no iss: %s", cb)
	}
	code := f.down.callback(b.get(cb.String()), spaRedirect).Get("code")
	tok := f.down.tokens(f.down.exchange(code, verifierForSPA))
	_, idc := f.down.jwtParts(tok.IDToken)
	if idc["sub"] != "corp:"+aliceSub || idc["iss"] != f.down.issuer {
		t.Errorf("ID token sub %v iss %v; want corp:%s from the downstream", idc["sub"], idc["iss"], aliceSub)
	}
	if amr, _ := idc["amr"].([]any); len(amr) != 1 || amr[0] != AMRFederated {
		t.Errorf("ID token amr %v, want [fed]", idc["amr"])
	}
	ui := f.down.userinfo(tok.AccessToken)
	var info map[string]any
	if err := json.Unmarshal([]byte(ui.body), &info); err != nil || ui.StatusCode != 200 {
		t.Fatalf("userinfo %d %s", ui.StatusCode, ui.body)
	}
	if info["sub"] != "corp:"+aliceSub || info["name"] != "Alice Liddell" || info["email"] != "alice@example.com" || info["email_verified"] != true {
		t.Errorf("userinfo %v: the upstream claims are not mapped; logs:\n%s", info, f.logs)
	}
	rec, err := f.records.ConnectorUser(context.Background(), "corp:"+aliceSub)
	if err != nil || rec.RefreshToken == nil || !slices.ContainsFunc(rec.RefreshToken, func(c byte) bool { return c < 0x20 || c > 0x7e }) {
		t.Fatalf("record %+v %v: want an upstream refresh token, sealed", rec, err)
	}

	// A refresh asks the upstream: it answers while alice exists there...
	tok2 := f.down.tokens(f.down.refresh(tok.RefreshToken))
	rec2, _ := f.records.ConnectorUser(context.Background(), "corp:"+aliceSub)
	if string(rec2.RefreshToken) == string(rec.RefreshToken) {
		t.Error("the upstream rotated its refresh token but the record kept the old one")
	}
	// ...and stops at the first refresh after she is removed upstream.
	if err := f.up.s.SetUsers(loginUsers(t)[1:]); err != nil {
		t.Fatal(err)
	}
	f.down.oauthErr(f.down.refresh(tok2.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if _, err := f.records.ConnectorUser(context.Background(), "corp:"+aliceSub); err == nil {
		t.Error("the record of a user refused upstream was kept")
	}
	if !strings.Contains(f.logs.String(), "refused the user's refresh token") {
		t.Errorf("the refusal is not logged:\n%s", f.logs)
	}
}

// TestConnectorSubjectsNamespaced: one upstream person through two
// connectors is two subjects.
func TestConnectorSubjectsNamespaced(t *testing.T) {
	f := newFedEnv(t, []string{"corp", "corp2"})
	subs := map[string]bool{}
	for _, id := range []string{"corp", "corp2"} {
		b := f.down.browser()
		code := f.federatedCode(b, id, "alice", alicePassword)
		_, idc := f.down.jwtParts(f.down.tokens(f.down.exchange(code, verifierForSPA)).IDToken)
		subs[idc["sub"].(string)] = true
	}
	if !subs["corp:"+aliceSub] || !subs["corp2:"+aliceSub] {
		t.Errorf("subjects %v, want corp:%s and corp2:%s", subs, aliceSub, aliceSub)
	}
}

// otherFirst returns s with its first character replaced by another one
// (replacing it with a fixed "x" changed nothing for 1 value in 64).
func otherFirst(s string) string {
	if strings.HasPrefix(s, "x") {
		return "y" + s[1:]
	}
	return "x" + s[1:]
}

// TestConnectorCallbackRefused: an answer that is not this browser's
// sign-in's, or not the upstream's, ends on a page, with no code.
func TestConnectorCallbackRefused(t *testing.T) {
	f := newFedEnv(t, []string{"corp"})
	for _, tc := range []struct {
		name   string
		change func(q url.Values)
		status int
		msg    string
	}{
		{"state", func(q url.Values) { q.Set("state", otherFirst(q.Get("state"))) }, 400, "did not sign you in"},
		{"iss", func(q url.Values) { q.Set("iss", "https://evil.example") }, 400, "did not sign you in"},
		{"no iss", func(q url.Values) { q.Del("iss") }, 400, "did not sign you in"},
		{"code", func(q url.Values) { q.Set("code", otherFirst(q.Get("code"))) }, 400, "did not sign you in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := f.down.browser()
			cb := f.upstreamSignIn(b, f.begin(b, f.loginPage(b, spaRequest()), "corp"), "alice", alicePassword)
			q := cb.Query()
			tc.change(q)
			cb.RawQuery = q.Encode()
			p := b.get(cb.String())
			if p.StatusCode != tc.status || !strings.Contains(p.body, tc.msg) || strings.Contains(p.body, "goroutine") {
				t.Fatalf("%d %s", p.StatusCode, p.body)
			}
			if !strings.Contains(p.body, `href="/account/login?`) {
				t.Errorf("no way back to the sign-in options:\n%s", p.body)
			}
			if !strings.Contains(f.down.logs.String(), "upstream sign-in failed") {
				t.Errorf("not logged:\n%s", f.down.logs)
			}
		})
	}
	t.Run("replayed", func(t *testing.T) {
		b := f.down.browser()
		cb := f.upstreamSignIn(b, f.begin(b, f.loginPage(b, spaRequest()), "corp"), "alice", alicePassword)
		f.down.callback(b.get(cb.String()), spaRedirect)
		p := b.get(cb.String())
		if p.StatusCode != 400 || !strings.Contains(p.body, "started in another browser") {
			t.Fatalf("a second callback: %d %s", p.StatusCode, p.body)
		}
	})
	t.Run("another browser", func(t *testing.T) {
		b := f.down.browser()
		cb := f.upstreamSignIn(b, f.begin(b, f.loginPage(b, spaRequest()), "corp"), "alice", alicePassword)
		other := f.down.browser()
		other.get(f.down.issuer + PathLogin) // no cookie for this trip
		p := other.get(cb.String())
		if p.StatusCode != 400 || !strings.Contains(p.body, "started in another browser") {
			t.Fatalf("%d %s", p.StatusCode, p.body)
		}
	})
}

// TestConnectorUpstreamError: the person cancels at the upstream, which
// answers access_denied: a page says so, with a way back.
func TestConnectorUpstreamError(t *testing.T) {
	f := newFedEnv(t, []string{"corp"})
	b := f.down.browser()
	up := f.begin(b, f.loginPage(b, spaRequest()), "corp")
	p := b.get(up.String())
	lp := b.get(p.Header.Get("Location"))
	fields := formFields(t, lp.body)
	fields.Set("cancel", "1")
	back := b.post(f.up.issuer+PathLogin, fields)
	cb, _ := url.Parse(back.Header.Get("Location"))
	if cb.Query().Get("error") != "access_denied" {
		t.Fatalf("upstream cancel: %s", cb)
	}
	page := b.get(cb.String())
	if page.StatusCode != http.StatusForbidden || !strings.Contains(page.body, "The sign-in at Upstream corp was cancelled or refused.") {
		t.Fatalf("%d %s", page.StatusCode, page.body)
	}
	if !strings.Contains(f.down.logs.String(), "upstream sign-in refused by the provider") {
		t.Errorf("not logged:\n%s", f.down.logs)
	}
}

// TestConnectorUnreachable: an issuer nobody answers at is a "try again"
// page, and its discovery is not tried again at every sign-in.
func TestConnectorUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	c, err := connectoroidc.New(connectoroidc.Config{ID: "dead", Name: "Dead SSO", Issuer: dead, ClientID: "x", Store: connector.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	set, _ := connector.NewSet(c)
	e := newLoginEnv(t, func(cfg *Config) { cfg.Connectors = set })
	b := e.browser()
	p := b.authorize(spaRequest())
	lp := b.get(p.Header.Get("Location"))
	fields := formFields(t, lp.body)
	fields.Set("connector", "dead")
	r := b.post(e.issuer+PathLogin, fields)
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.body, "Dead SSO cannot be reached right now") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	if !strings.Contains(e.logs.String(), "discovery of "+dead) {
		t.Errorf("the cause is not logged:\n%s", e.logs)
	}
}

// TestConnectorNonceChecked: an ID token issued for another nonce is
// refused even with the right state, code and verifier.
func TestConnectorNonceChecked(t *testing.T) {
	f := newFedEnv(t, []string{"corp"})
	c := f.down.s.oidc.connectors.Get("corp").(connector.Redirect)
	b := f.down.browser()
	begin := connector.Begin{RedirectURI: f.down.issuer + PathLogin + "/corp/callback", State: "state-0123456789012345678901234567890123456789",
		Nonce: "nonce-one", CodeVerifier: "verifier-0123456789012345678901234567890123456789"}
	authz, err := c.AuthCodeURL(context.Background(), begin)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authz)
	cb := f.upstreamSignIn(b, u, "alice", alicePassword)
	other := begin
	other.Nonce = "nonce-two"
	if _, err := c.Exchange(context.Background(), cb.Query(), other); err == nil || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("exchange with another nonce: %v", err)
	}
}

// TestConnectorAllowed: clients[].allowedConnectors decides the buttons
// and the form, and what a POST may do whatever the page showed.
func TestConnectorAllowed(t *testing.T) {
	f := newFedEnv(t, []string{"corp", "corp2"})
	clients, resources := loginClients(t)
	for i := range clients {
		switch clients[i].ID {
		case "spa":
			clients[i].AllowedConnectors = []string{"corp2"}
		case "web":
			clients[i].AllowedConnectors = []string{ConnectorLocal}
		}
	}
	if err := f.down.s.SetClients(clients, resources); err != nil {
		t.Fatal(err)
	}
	b := f.down.browser()
	lp := f.loginPage(b, spaRequest())
	if got := buttons(lp.body); !slices.Equal(got, []string{"corp2"}) || strings.Contains(lp.body, `name="password"`) {
		t.Fatalf("spa allows corp2 only: buttons %q, page\n%s", got, lp.body)
	}
	fields := formFields(t, lp.body)
	fields.Set("connector", "corp")
	if p := b.post(f.down.issuer+PathLogin, fields); p.StatusCode != 400 || !strings.Contains(p.body, msgConnectorUnknown) {
		t.Errorf("a connector the client does not allow: %d %s", p.StatusCode, p.body)
	}
	fields.Del("connector")
	fields.Set("username", "alice")
	fields.Set("password", alicePassword)
	if p := b.post(f.down.issuer+PathLogin, fields); p.StatusCode != 403 || !strings.Contains(p.body, msgLocalNotAllowed) {
		t.Errorf("a password for a client without local: %d %s", p.StatusCode, p.body)
	}

	web := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {webRedirect}, "scope": {"openid"}, "state": {"s"}}
	lp = f.loginPage(f.down.browser(), web)
	if got := buttons(lp.body); len(got) != 0 || !strings.Contains(lp.body, `name="password"`) {
		t.Errorf("web allows local only: buttons %q", got)
	}
}

// TestConnectorNoLocalUsers: without local users the page shows only the
// connectors' buttons.
func TestConnectorNoLocalUsers(t *testing.T) {
	f := newFedEnv(t, []string{"corp"}, func(c *Config) { c.Users = nil })
	lp := f.loginPage(f.down.browser(), spaRequest())
	if got := buttons(lp.body); !slices.Equal(got, []string{"corp"}) || strings.Contains(lp.body, `name="password"`) {
		t.Errorf("buttons %q; page\n%s", got, lp.body)
	}
	if !strings.Contains(lp.body, `name="cancel"`) {
		t.Error("no Cancel without the form")
	}
	// A client that allows only local users, where there are none: the
	// page says so rather than showing nothing.
	clients, resources := loginClients(t)
	for i := range clients {
		clients[i].AllowedConnectors = []string{ConnectorLocal}
	}
	if err := f.down.s.SetClients(clients, resources); err != nil {
		t.Fatal(err)
	}
	lp = f.loginPage(f.down.browser(), spaRequest())
	if len(buttons(lp.body)) != 0 || strings.Contains(lp.body, `name="password"`) || !strings.Contains(lp.body, "allows no way to sign in here") {
		t.Errorf("local only, no local users:\n%s", lp.body)
	}
}

// fakeDirectory is a password connector (as an LDAP directory is): carol
// with the password "carol-pw".
type fakeDirectory struct{ calls atomic.Int64 }

func (*fakeDirectory) ID() string   { return "dir" }
func (*fakeDirectory) Name() string { return "Directory" }
func (d *fakeDirectory) Authenticate(_ context.Context, username, password string) (string, error) {
	d.calls.Add(1)
	if username == "carol" && password == "carol-pw" {
		return connector.Subject("dir", "carol-id"), nil
	}
	return "", user.ErrInvalidCredentials
}
func (*fakeDirectory) Active(_ context.Context, subject string) (bool, error) {
	return subject == "dir:carol-id", nil
}
func (*fakeDirectory) Claims(context.Context, user.ClaimsRequest) (map[string]any, error) {
	return map[string]any{"preferred_username": "carol"}, nil
}

// TestPasswordConnector: a password connector's button leads to its own
// form; its guesses draw on the login budgets of local passwords,
// concurrent ones included; a right password signs in with amr pwd.
func TestPasswordConnector(t *testing.T) {
	dir := &fakeDirectory{}
	set, _ := connector.NewSet(dir)
	e := newLoginEnv(t, func(c *Config) { c.Connectors = set })
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	if got := buttons(lp.body); !slices.Equal(got, []string{"dir"}) {
		t.Fatalf("buttons %q", got)
	}
	fields := formFields(t, lp.body)
	fields.Set("connector", "dir")
	form := b.post(e.issuer+PathLogin, fields)
	if form.StatusCode != 200 || !strings.Contains(form.body, "Sign in with Directory") ||
		!strings.Contains(form.body, `name="connector" value="dir"`) || !strings.Contains(form.body, `name="connector_form"`) || len(buttons(form.body)) != 0 {
		t.Fatalf("the directory's form: %d %s", form.StatusCode, form.body)
	}
	fields.Set("connector_form", "1")
	fields.Set("username", "carol")

	const n = 40
	got := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			g := url.Values{}
			for k, v := range fields {
				g[k] = v
			}
			g.Set("password", "wrong")
			req, _ := http.NewRequest("POST", e.issuer+PathLogin, strings.NewReader(g.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			resp, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if got[200] != userFailures || got[429] != n-userFailures || dir.calls.Load() != int64(userFailures) {
		t.Fatalf("%d concurrent wrong guesses: %v, %d reached the directory; want %d", n, got, dir.calls.Load(), userFailures)
	}
	// The local user carol (none here) and the directory's carol have
	// budgets of their own, but the address's is shared: the right
	// password waits for the window like a local one.
	fields.Set("password", "carol-pw")
	if p := b.post(e.issuer+PathLogin, fields); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after the burst: %d", p.StatusCode)
	}
	e.clock.Add(failureWindow)
	q := e.callback(b.post(e.issuer+PathLogin, fields), spaRedirect)
	_, idc := e.jwtParts(e.tokens(e.exchange(q.Get("code"), verifierForSPA)).IDToken)
	if amr, _ := idc["amr"].([]any); idc["sub"] != "dir:carol-id" || len(amr) != 1 || amr[0] != AMRPassword {
		t.Errorf("sub %v amr %v; want dir:carol-id [pwd]", idc["sub"], idc["amr"])
	}
	// alice (local) is not throttled by the directory's carol.
	if p := e.browser().signIn(spaRequest(), "alice", alicePassword); p.StatusCode != http.StatusSeeOther {
		t.Errorf("local sign-in after the directory's burst: %d", p.StatusCode)
	}
}

// TestConnectorCallbackBudget: forged answers (each costs a request to
// the provider) draw on the address's login budget; once it is spent a
// callback is refused before the provider is asked, and the budget is
// the one passwords use.
func TestConnectorCallbackBudget(t *testing.T) {
	f := newFedEnv(t, []string{"corp"}, func(c *Config) {
		c.Limits = DefaultLimits()
		c.Limits.LoginPerAddress = throttle.Limit{Max: 3, Window: 15 * time.Minute}
	})
	forge := func(b *browser) page {
		cb := f.upstreamSignIn(b, f.begin(b, f.loginPage(b, spaRequest()), "corp"), "alice", alicePassword)
		q := cb.Query()
		q.Set("code", "forged")
		cb.RawQuery = q.Encode()
		return b.get(cb.String())
	}
	for i := range 3 {
		if p := forge(f.down.browser()); p.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged answer %d: %d %s", i, p.StatusCode, p.body)
		}
	}
	b := f.down.browser()
	if p := forge(b); p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("a forged answer over the budget: %d %s", p.StatusCode, p.body)
	}
	// The same address's passwords share the budget.
	if p := f.down.browser().signIn(spaRequest(), "alice", "wrong"); p.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a password after the forged answers: %d", p.StatusCode)
	}
}

// TestConnectorCluster: three downstream instances on one PostgreSQL
// schema, each request to the next one: the sign-in starts on one
// instance and comes back to another (nothing of the round trip is kept
// in an instance), the records are shared, and a refresh on any instance
// re-checks the upstream user.
func TestConnectorCluster(t *testing.T) {
	f := newUpstream(t)
	var pg connector.Store
	f.down = newClusterEnv(t, 3, nil, func(c *Config) {
		store := c.Grants.(connector.Store) // the instance's own pgstore
		pg = store
		c.Connectors = f.connectors(t, []string{"corp"}, store, func() time.Time { return testNow })
		c.Users = loginUsers(t)
	})
	f.registerDownstream(t, []string{"corp"})
	b := f.down.browser()
	code := f.federatedCode(b, "corp", "alice", alicePassword)
	tok := f.down.tokens(f.down.exchange(code, verifierForSPA))
	if _, idc := f.down.jwtParts(tok.IDToken); idc["sub"] != "corp:"+aliceSub {
		t.Fatalf("sub %v", idc["sub"])
	}
	if rec, err := pg.ConnectorUser(context.Background(), "corp:"+aliceSub); err != nil || rec.RefreshToken == nil {
		t.Fatalf("the record in PostgreSQL: %+v %v", rec, err)
	}
	for range 3 { // every instance refreshes once, with the rotated upstream token
		tok = f.down.tokens(f.down.refresh(tok.RefreshToken))
	}
	if err := f.up.s.SetUsers(loginUsers(t)[1:]); err != nil {
		t.Fatal(err)
	}
	f.down.oauthErr(f.down.refresh(tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if _, err := pg.ConnectorUser(context.Background(), "corp:"+aliceSub); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("the record after the upstream refused: %v", err)
	}
}

// TestConnectorBadIDToken: an upstream ID token that does not verify
// (here: expired by the downstream's clock) ends on a page, logged with
// the cause.
func TestConnectorBadIDToken(t *testing.T) {
	f := newFedEnv(t, []string{"corp"})
	b := f.down.browser()
	cb := f.upstreamSignIn(b, f.begin(b, f.loginPage(b, spaRequest()), "corp"), "alice", alicePassword)
	f.down.clock.Add(time.Hour) // the upstream's ID tokens live 5 minutes
	p := b.get(cb.String())
	if p.StatusCode != http.StatusBadRequest || !strings.Contains(p.body, "Upstream corp did not sign you in.") {
		t.Fatalf("%d %s", p.StatusCode, p.body)
	}
	if !strings.Contains(f.down.logs.String(), "oidc: token is expired") {
		t.Errorf("the cause is not logged:\n%s", f.down.logs)
	}
}
