package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signet-id/signet/user"
)

// fakeSource is an application's user store: one user, ext-alice, whose
// activity a test flips, and a record of every call.
type fakeSource struct {
	active       atomic.Bool
	unavailable  atomic.Bool // Authenticate answers ErrUnavailable
	authCalls    atomic.Int64
	activeCalls  atomic.Int64
	mu           sync.Mutex
	claimsCalls  []user.ClaimsRequest
	idTokenExtra map[string]any
}

const (
	extSub      = "ext-alice"
	extUsername = "alice@ext"
	extPassword = "ext password"
)

func newFakeSource() *fakeSource {
	f := &fakeSource{idTokenExtra: map[string]any{"name": "Alice from the store", "groups": []string{"admins"},
		"sub": "someone-else", "iss": "https://evil.example", "nonce": "forged"}}
	f.active.Store(true)
	return f
}

func (f *fakeSource) Authenticate(ctx context.Context, username, password string) (string, error) {
	f.authCalls.Add(1)
	if f.unavailable.Load() {
		return "", fmt.Errorf("the directory is down: %w", user.ErrUnavailable)
	}
	if username != extUsername || password != extPassword || !f.active.Load() {
		return "", fmt.Errorf("%w (%s)", user.ErrInvalidCredentials, username)
	}
	return extSub, nil
}

func (f *fakeSource) Active(ctx context.Context, subject string) (bool, error) {
	f.activeCalls.Add(1)
	return subject == extSub && f.active.Load(), nil
}

func (f *fakeSource) Claims(ctx context.Context, req user.ClaimsRequest) (map[string]any, error) {
	f.mu.Lock()
	f.claimsCalls = append(f.claimsCalls, req)
	f.mu.Unlock()
	if req.Subject != extSub {
		return nil, nil
	}
	switch req.Caller {
	case user.CallerIDToken:
		return f.idTokenExtra, nil
	case user.CallerPage:
		return map[string]any{"preferred_username": "alice (store)"}, nil
	}
	out := user.Release(map[string]any{"name": "Alice from the store", "email": "alice@store.example", "email_verified": true}, req.Scopes)
	if out != nil {
		out["sub"] = "someone-else" // ignored: sub is the server's
	}
	return out, nil
}

func (f *fakeSource) calls(caller user.Caller) []user.ClaimsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []user.ClaimsRequest
	for _, c := range f.claimsCalls {
		if c.Caller == caller {
			out = append(out, c)
		}
	}
	return out
}

func withSource(src user.Source) func(*Config) {
	return func(c *Config) { c.Users, c.UserSource = nil, src }
}

// testLoginUI is an application's login page: a form with the hidden
// fields, a password checked with CheckPassword, Complete or Cancel.
// onGet, when set, is called on a GET instead (to misuse the request).
type testLoginUI struct {
	served atomic.Int64
	onGet  func(w http.ResponseWriter, r *http.Request, lr *LoginRequest)
	last   atomic.Pointer[LoginRequest]
}

func (u *testLoginUI) ServeLogin(w http.ResponseWriter, r *http.Request, lr *LoginRequest) {
	u.served.Add(1)
	u.last.Store(lr)
	if r.Method != http.MethodPost {
		if u.onGet != nil {
			u.onGet(w, r, lr)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<form method="post" action="%s"><p>Custom sign-in for %s (hint %q, scopes %s)</p>`,
			html.EscapeString(lr.Action()), html.EscapeString(lr.ClientID), lr.LoginHint, strings.Join(lr.Scopes, ","))
		for name, vs := range lr.HiddenFields() {
			fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, name, html.EscapeString(vs[0]))
		}
		b.WriteString(`<input name="username"><input name="password" type="password"></form>`)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(b.String()))
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("cancel") != "" {
		lr.Cancel(w, r)
		return
	}
	sub, err := lr.CheckPassword(r, r.PostForm.Get("username"), r.PostForm.Get("password"))
	var tooMany *TooManyAttemptsError
	switch {
	case errors.As(err, &tooMany) && errors.Is(err, ErrTooManyAttempts) && tooMany.RetryAfter > 0:
		http.Error(w, "custom: too many attempts", http.StatusTooManyRequests)
	case errors.Is(err, user.ErrInvalidCredentials):
		w.Write([]byte("custom: wrong username or password"))
	case errors.Is(err, user.ErrUnavailable):
		http.Error(w, "custom: try again", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, "custom: "+err.Error(), http.StatusInternalServerError)
	default:
		lr.Complete(w, r, sub)
	}
}

func withLoginUI(ui LoginUI) func(*Config) {
	return func(c *Config) { c.Login = ui }
}

// TestUserSourceFlow: with Config.UserSource, the built-in page signs in
// the source's user (its Authenticate, not the YAML users); the ID token
// carries the source's claims for ID tokens (never replacing sub, iss or
// nonce), userinfo the source's claims for the token's identity scopes;
// when the source says the user is no longer active, refresh is
// invalid_grant, userinfo 401, the login session is gone and an unused
// code is refused.
func TestUserSourceFlow(t *testing.T) {
	src := newFakeSource()
	e := newLoginEnv(t, withSource(src))
	b := e.browser()
	if p := b.signIn(spaRequest(), "alice", alicePassword); p.StatusCode != 200 || !strings.Contains(p.body, msgBadCredentials) {
		t.Fatalf("a YAML user with a custom source: %d %s", p.StatusCode, p.body)
	}
	cb := e.callback(b.signIn(spaRequest(), extUsername, extPassword), spaRedirect)
	tr := e.tokens(e.exchange(cb.Get("code"), verifierForSPA))

	_, id := e.jwtParts(tr.IDToken)
	if id["sub"] != extSub || id["iss"] != e.issuer || id["nonce"] != "n-1" || id["name"] != "Alice from the store" {
		t.Fatalf("ID token claims %v", id)
	}
	if g, _ := id["groups"].([]any); len(g) != 1 || g[0] != "admins" {
		t.Fatalf("ID token groups %v", id["groups"])
	}
	calls := src.calls(user.CallerIDToken)
	if len(calls) != 1 || calls[0].Subject != extSub || calls[0].ClientID != "spa" ||
		!slices.Equal(calls[0].Scopes, []string{"openid", "profile", "email", "offline_access"}) {
		t.Fatalf("ID token claims requests %+v", calls)
	}

	p := e.userinfo(tr.AccessToken)
	if p.StatusCode != 200 {
		t.Fatalf("userinfo %d %s", p.StatusCode, p.body)
	}
	if want := `{"email":"alice@store.example","email_verified":true,"name":"Alice from the store","sub":"ext-alice"}`; p.body != want {
		t.Fatalf("userinfo %s, want %s", p.body, want)
	}

	// Another code, not redeemed yet, then the user is disabled.
	code2 := e.callback(b.authorize(spaRequest("state", "st-2")), spaRedirect).Get("code")
	if code2 == "" {
		t.Fatal("no second code from the session")
	}
	src.active.Store(false)
	e.oauthErr(e.refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if p := e.userinfo(tr.AccessToken); p.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("userinfo for an inactive user: %d %s", p.StatusCode, p.body)
	}
	e.oauthErr(e.exchange(code2, verifierForSPA), http.StatusBadRequest, "invalid_grant")
	p = b.authorize(spaRequest("state", "st-3"))
	if p.StatusCode != http.StatusFound || !strings.HasPrefix(p.Header.Get("Location"), e.issuer+PathLogin) {
		t.Fatalf("authorize with the session of an inactive user: %d %s", p.StatusCode, p.Header.Get("Location"))
	}

	// Active again: the refresh token was not used up by the refusal.
	src.active.Store(true)
	e.tokens(e.refresh(tr.RefreshToken))
}

// TestUserSourceClaimsByScope: userinfo asks the source with the token's
// identity scopes, as the client still has them; the built-in users'
// ID tokens stay without their profile claims (they are at userinfo).
func TestUserSourceClaimsByScope(t *testing.T) {
	src := newFakeSource()
	e := newLoginEnv(t, withSource(src))
	b := e.browser()
	cb := e.callback(b.signIn(spaRequest("scope", "openid email"), extUsername, extPassword), spaRedirect)
	tr := e.tokens(e.exchange(cb.Get("code"), verifierForSPA))
	p := e.userinfo(tr.AccessToken)
	if want := `{"email":"alice@store.example","email_verified":true,"sub":"ext-alice"}`; p.StatusCode != 200 || p.body != want {
		t.Fatalf("userinfo with openid email: %d %s, want %s", p.StatusCode, p.body, want)
	}
	calls := src.calls(user.CallerUserinfo)
	if len(calls) != 1 || !slices.Equal(calls[0].Scopes, []string{"openid", "email"}) || calls[0].ClientID != "spa" {
		t.Fatalf("userinfo claims requests %+v", calls)
	}

	y := newLoginEnv(t)
	tr = y.tokens(y.exchange(y.code(y.browser(), spaRequest()), verifierForSPA))
	if _, id := y.jwtParts(tr.IDToken); id["name"] != nil || id["email"] != nil {
		t.Fatalf("a built-in user's ID token carries profile claims: %v", id)
	}
}

// TestUserSourceLogoutName: the sign-out page names the user by the
// source's preferred_username (user.CallerPage).
func TestUserSourceLogoutName(t *testing.T) {
	src := newFakeSource()
	e := newLoginEnv(t, withSource(src))
	b := e.browser()
	e.callback(b.signIn(spaRequest(), extUsername, extPassword), spaRedirect)
	p := b.get(e.issuer + PathEndSession)
	if p.StatusCode != 200 || !strings.Contains(p.body, "alice (store)") {
		t.Fatalf("sign-out page: %d %s", p.StatusCode, p.body)
	}
}

// TestUserSourceBudgets: the login budgets hold around a custom
// Authenticator: 40 concurrent wrong guesses for one username from one
// address reach the source exactly as many times as the budget allows,
// through the built-in page and through a custom page's CheckPassword.
// An unavailable source gives its attempts back (503), so they do not
// lock the user out.
func TestUserSourceBudgets(t *testing.T) {
	for _, custom := range []bool{false, true} {
		t.Run(fmt.Sprintf("custom page %v", custom), func(t *testing.T) {
			src := newFakeSource()
			mods := []func(*Config){withSource(src)}
			if custom {
				mods = append(mods, withLoginUI(&testLoginUI{}))
			}
			e := newLoginEnv(t, mods...)
			b := e.browser()
			lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))

			src.unavailable.Store(true)
			got := concurrentLogins(b, lp.body, 20, func(int) string { return extUsername }, "wrong")
			if got[http.StatusServiceUnavailable] != 20 || src.authCalls.Load() != 20 {
				t.Fatalf("20 guesses with the source down: %v, %d calls", got, src.authCalls.Load())
			}
			src.unavailable.Store(false)
			src.authCalls.Store(0)

			got = concurrentLogins(b, lp.body, 40, func(int) string { return extUsername }, "wrong")
			if got[200] != userFailures || got[429] != 40-userFailures || src.authCalls.Load() != int64(userFailures) {
				t.Fatalf("40 concurrent wrong guesses: %v, %d calls to the source; want %d verified, the rest refused",
					got, src.authCalls.Load(), userFailures)
			}
			if p := b.submitLogin(lp.body, extUsername, extPassword); p.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("right password after the burst: %d", p.StatusCode)
			}
			e.clock.Add(failureWindow)
			e.callback(b.submitLogin(lp.body, extUsername, extPassword), spaRedirect)
		})
	}
}

// TestLoginUI: the application's page is served for the login path
// instead of the built-in one, with the pending request; a POST from it
// signs in (a new session) and continues the authorization; cancel sends
// access_denied to the client; a POST without the CSRF token never
// reaches the page; Complete and CheckPassword refuse a GET.
func TestLoginUI(t *testing.T) {
	ui := &testLoginUI{}
	e := newLoginEnv(t, withLoginUI(ui))
	b := e.browser()
	p := b.authorize(spaRequest("login_hint", "alice"))
	lp := b.get(p.Header.Get("Location"))
	if lp.StatusCode != 200 || !strings.Contains(lp.body, `Custom sign-in for spa (hint "alice", scopes openid,profile,email,offline_access,reports.read)`) ||
		lp.Header.Get("Cache-Control") != "no-store" || lp.Header.Get("X-Frame-Options") != "DENY" || lp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("custom login page: %d %v %s", lp.StatusCode, lp.Header, lp.body)
	}
	lr := ui.last.Load()
	if lr.Posted() || lr.Prompt != "" || lr.ID() != lr.HiddenFields().Get("request") || lr.Action() != PathLogin {
		t.Fatalf("login request on GET: posted %v, prompt %q, id %q, action %q", lr.Posted(), lr.Prompt, lr.ID(), lr.Action())
	}

	t.Run("wrong password", func(t *testing.T) {
		if p := b.submitLogin(lp.body, "alice", "wrong"); p.StatusCode != 200 || p.body != "custom: wrong username or password" {
			t.Fatalf("wrong password: %d %s", p.StatusCode, p.body)
		}
	})
	t.Run("no CSRF token", func(t *testing.T) {
		before := ui.served.Load()
		f := formFields(t, lp.body)
		f.Del("csrf")
		f.Set("username", "alice")
		f.Set("password", alicePassword)
		if p := b.post(e.issuer+PathLogin, f); p.StatusCode != http.StatusForbidden || p.Header.Get("Set-Cookie") != "" {
			t.Fatalf("POST without CSRF: %d %v", p.StatusCode, p.Header)
		}
		other := e.browser() // the token belongs to the first browser's cookie
		other.get(other.authorize(spaRequest()).Header.Get("Location"))
		if p := other.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusForbidden {
			t.Fatalf("another browser's CSRF token: %d %s", p.StatusCode, p.body)
		}
		if n := ui.served.Load() - before; n != 1 { // only the other browser's GET
			t.Fatalf("the page was called %d times for refused POSTs", n-1)
		}
	})
	t.Run("completes", func(t *testing.T) {
		p := b.submitLogin(lp.body, "alice", alicePassword)
		cb := e.callback(p, spaRedirect)
		if cb.Get("state") != "st-1" || !strings.Contains(p.Header.Get("Set-Cookie"), sessionCookie+"=") {
			t.Fatalf("callback %v, cookies %v", cb, p.Header["Set-Cookie"])
		}
		tr := e.tokens(e.exchange(cb.Get("code"), verifierForSPA))
		if _, id := e.jwtParts(tr.IDToken); id["sub"] != aliceSub {
			t.Fatalf("ID token sub %v", id["sub"])
		}
		// The session serves the next request without the page.
		before := ui.served.Load()
		e.callback(b.authorize(spaRequest("state", "st-2")), spaRedirect)
		if ui.served.Load() != before {
			t.Fatal("the page was shown to a signed-in browser")
		}
	})
	t.Run("cancels", func(t *testing.T) {
		c := e.browser()
		lp := c.get(c.authorize(spaRequest("state", "st-c")).Header.Get("Location"))
		f := formFields(t, lp.body)
		f.Set("cancel", "1")
		cb := e.callback(c.post(e.issuer+PathLogin, f), spaRedirect)
		if cb.Get("error") != "access_denied" || cb.Get("state") != "st-c" || cb.Get("code") != "" {
			t.Fatalf("cancel: %v", cb)
		}
	})
	t.Run("Complete on a GET", func(t *testing.T) {
		var checkErr error
		ui.onGet = func(w http.ResponseWriter, r *http.Request, lr *LoginRequest) {
			_, checkErr = lr.CheckPassword(r, "alice", alicePassword)
			lr.Complete(w, r, aliceSub)
		}
		defer func() { ui.onGet = nil }()
		c := e.browser()
		p := c.get(c.authorize(spaRequest()).Header.Get("Location"))
		if p.StatusCode != http.StatusForbidden || p.Header.Get("Location") != "" || strings.Contains(p.Header.Get("Set-Cookie"), sessionCookie) {
			t.Fatalf("Complete on a GET: %d %v", p.StatusCode, p.Header)
		}
		if !errors.Is(checkErr, ErrNotPosted) {
			t.Fatalf("CheckPassword on a GET: %v", checkErr)
		}
	})
}

// TestLoginUIInactiveSubject: Complete for a subject the source says is
// not active issues nothing.
func TestLoginUIInactiveSubject(t *testing.T) {
	ui := LoginUIFunc(func(w http.ResponseWriter, r *http.Request, lr *LoginRequest) {
		if r.Method != http.MethodPost {
			fmt.Fprintf(w, `<input type="hidden" name="request" value="%s"><input type="hidden" name="csrf" value="%s">`,
				html.EscapeString(lr.ID()), html.EscapeString(lr.HiddenFields().Get("csrf")))
			return
		}
		lr.Complete(w, r, "nobody") // the app names a subject its source does not know
	})
	e := newLoginEnv(t, withLoginUI(ui))
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	p := b.post(e.issuer+PathLogin, formFields(t, lp.body))
	if p.StatusCode != http.StatusForbidden || strings.Contains(p.Header.Get("Set-Cookie"), sessionCookie) {
		t.Fatalf("Complete for an unknown subject: %d %v %s", p.StatusCode, p.Header, p.body)
	}
}

// TestUserSourceConfig: a custom source and built-in users are not mixed;
// a source or a login page without a grant store is refused.
func TestUserSourceConfig(t *testing.T) {
	clients, resources := loginClients(t)
	base := Config{Issuer: "https://signet.example.com", Keys: newFakeKeys(t), Clients: clients, APIResources: resources}
	for name, mod := range map[string]func(*Config){
		"source and users": func(c *Config) {
			c.Grants, c.Users, c.UserSource = newLoginEnv(t).store, loginUsers(t), newFakeSource()
		},
		"source, no grants": func(c *Config) { c.UserSource = newFakeSource() },
		"login, no grants":  func(c *Config) { c.Login = &testLoginUI{} },
	} {
		cfg := base
		mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	e := newLoginEnv(t, withSource(newFakeSource()))
	if err := e.s.SetUsers(loginUsers(t)); err == nil {
		t.Fatal("SetUsers added built-in users beside a custom source")
	}
	if err := e.s.SetUsers(nil); err != nil {
		t.Fatalf("SetUsers(nil) with a custom source: %v", err)
	}
}

// TestResumeLogin: a sign-in that leaves the site (an upstream identity
// provider) ends on the application's own route with ResumeLogin and
// Complete: only in the browser the continuation was made for, and not
// once it is altered.
func TestResumeLogin(t *testing.T) {
	ui := &testLoginUI{}
	e := newLoginEnv(t, withLoginUI(ui))
	b := e.browser()
	b.get(b.authorize(spaRequest("state", "st-up")).Header.Get("Location"))
	cont := ui.last.Load().Continuation()

	// The upstream's redirect back, to the application's route, from a
	// browser: its cookies and the continuation (from the state).
	back := func(c *browser, continuation string) (*LoginRequest, error) {
		r, _ := http.NewRequest("GET", e.issuer+"/app/upstream-callback", nil)
		u, _ := url.Parse(e.issuer + "/")
		for _, ck := range c.c.Jar.Cookies(u) {
			r.AddCookie(ck)
		}
		return e.s.ResumeLogin(r, continuation)
	}
	other := e.browser()
	other.get(other.authorize(spaRequest()).Header.Get("Location"))
	for name, try := range map[string]func() (*LoginRequest, error){
		"another browser": func() (*LoginRequest, error) { return back(other, cont) },
		"altered request": func() (*LoginRequest, error) { return back(b, strings.Replace(cont, "st-up", "st-xx", 1)) },
		"malformed":       func() (*LoginRequest, error) { return back(b, "no-dot") },
	} {
		if lr, err := try(); !errors.Is(err, ErrInvalidContinuation) || lr != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	lr, err := back(b, cont)
	if err != nil || !lr.Posted() || lr.ClientID != "spa" {
		t.Fatalf("resume: %v %+v", err, lr)
	}
	r, _ := http.NewRequest("GET", e.issuer+"/app/upstream-callback", nil)
	w := httptest.NewRecorder()
	lr.Complete(w, r, aliceSub)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || loc.Query().Get("state") != "st-up" || loc.Query().Get("code") == "" ||
		!strings.Contains(w.Header().Get("Set-Cookie"), sessionCookie+"=") {
		t.Fatalf("Complete after resume: %d %v", w.Code, w.Header())
	}
	e.tokens(e.exchange(loc.Query().Get("code"), verifierForSPA))
}
