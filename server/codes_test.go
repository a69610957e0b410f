package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/pgstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// writeCounter is a grant store that counts the writes made through it.
type writeCounter struct {
	grantstore.Store
	writes atomic.Int32
}

func (c *writeCounter) CreateGrant(ctx context.Context, g grantstore.Grant) error {
	c.writes.Add(1)
	return c.Store.CreateGrant(ctx, g)
}

func (c *writeCounter) ConsumeGrant(ctx context.Context, id string, now time.Time) (grantstore.Grant, error) {
	c.writes.Add(1)
	return c.Store.ConsumeGrant(ctx, id, now)
}

func (c *writeCounter) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	c.writes.Add(1)
	return c.Store.RevokeGrant(ctx, id, now)
}

func (c *writeCounter) RevokeFamily(ctx context.Context, family string, now time.Time) (int, error) {
	c.writes.Add(1)
	return c.Store.RevokeFamily(ctx, family, now)
}

func (c *writeCounter) RevokeSession(ctx context.Context, sid string, now time.Time) (int, error) {
	c.writes.Add(1)
	return c.Store.RevokeSession(ctx, sid, now)
}

func (c *writeCounter) CreateCode(ctx context.Context, g grantstore.Grant, keep int) (int, error) {
	c.writes.Add(1)
	return c.Store.CreateCode(ctx, g, keep)
}

func (c *writeCounter) DeleteSessionCodes(ctx context.Context, sid string) (int, error) {
	c.writes.Add(1)
	return c.Store.DeleteSessionCodes(ctx, sid)
}

func (c *writeCounter) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	c.writes.Add(1)
	return c.Store.DeleteExpired(ctx, t)
}

// TestHeadWritesNothing: HEAD on the authorization and end-session
// endpoints of a signed-in browser is refused and writes nothing (a GET
// would store a code, or end the session).
func TestHeadWritesNothing(t *testing.T) {
	var wc *writeCounter
	e := newLoginEnv(t, func(c *Config) {
		wc = &writeCounter{Store: c.Grants}
		c.Grants = wc
	})
	b := e.signedInBrowser()
	hint := e.tokens(e.exchange(e.callback(b.authorize(spaRequest()), spaRedirect).Get("code"), verifierForSPA)).IDToken
	before := wc.writes.Load()
	for _, u := range []string{
		e.issuer + PathAuthorize + "?" + spaRequest().Encode(),
		e.issuer + PathEndSession + "?" + url.Values{"id_token_hint": {hint}}.Encode(),
	} {
		req, _ := http.NewRequest(http.MethodHead, u, nil)
		if p := e.do(b.c, req); p.StatusCode != http.StatusMethodNotAllowed || p.Header.Get("Allow") != "GET, POST" {
			t.Errorf("HEAD %s: %d %v, want 405 with Allow: GET, POST", u, p.StatusCode, p.Header)
		}
	}
	if n := wc.writes.Load() - before; n != 0 {
		t.Fatalf("HEAD requests made %d grant store writes", n)
	}
	// The session is intact: a GET still issues a code.
	if e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect).Get("code") == "" {
		t.Fatal("the session ended")
	}
}

// TestSessionCodesBounded: a signed-in browser asking for codes as fast as
// it can, concurrently, leaves at most MaxSessionCodes unredeemed codes in
// the store; the oldest are invalidated. With each grant store.
func TestSessionCodesBounded(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testSessionCodesBounded(t, memstore.New()) })
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testSessionCodesBounded(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := pgstore.Open(t.Context(), postgresSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testSessionCodesBounded(t, st)
	})
}

func testSessionCodesBounded(t *testing.T, st grantstore.Store) {
	e := newLoginEnv(t, func(c *Config) { c.Grants = st })
	b := e.browser()
	codes := []string{e.code(b, spaRequest())}
	const n = 40
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+PathAuthorize+"?"+spaRequest("prompt", "none").Encode(), nil)
			resp, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			u, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || u.Query().Get("code") == "" {
				t.Errorf("authorize %d: %d %s, want a code", i, resp.StatusCode, resp.Header.Get("Location"))
				return
			}
			got[i] = u.Query().Get("code")
		})
	}
	wg.Wait()
	codes = append(codes, got...)
	stored := func(codes []string) (n int) {
		for _, c := range codes {
			if _, err := st.Grant(t.Context(), grantstore.HashHandle(c)); err == nil {
				n++
			}
		}
		return n
	}
	if n := stored(codes); n != MaxSessionCodes {
		t.Fatalf("after %d codes for one session, %d are stored; want %d", len(codes), n, MaxSessionCodes)
	}

	// One at a time, a second apart: the oldest are the ones invalidated.
	codes = codes[:0]
	for range MaxSessionCodes + 2 {
		e.clock.Add(time.Second)
		codes = append(codes, e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect).Get("code"))
	}
	for _, c := range codes[:2] {
		e.oauthErr(e.exchange(c, verifierForSPA), 400, "invalid_grant")
	}
	if n := stored(codes[2:]); n != MaxSessionCodes {
		t.Fatalf("%d of the newest %d codes are stored", n, MaxSessionCodes)
	}
	e.tokens(e.exchange(codes[2], verifierForSPA))
	// A redeemed code no longer counts: the next code keeps the other nine.
	e.callback(b.authorize(spaRequest("prompt", "none")), spaRedirect)
	if n := stored(codes[3:]); n != MaxSessionCodes-1 {
		t.Fatalf("after a redemption, %d of the 9 newer codes are stored; want 9", n)
	}
}

// TestEndSessionDeletesCodes: signing out deletes the codes the session
// issued that were not redeemed; redeemed ones and refresh tokens stay.
func TestEndSessionDeletesCodes(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	tr := e.tokens(e.exchange(e.code(b, spaRequest()), verifierForSPA))
	pending := e.callback(b.authorize(spaRequest()), spaRedirect).Get("code")
	if p := b.get(e.issuer + PathEndSession + "?" + url.Values{"id_token_hint": {tr.IDToken}}.Encode()); p.StatusCode != 200 || !strings.Contains(p.body, "You are signed out") {
		t.Fatalf("end session: %d %s", p.StatusCode, p.body)
	}
	e.oauthErr(e.exchange(pending, verifierForSPA), 400, "invalid_grant")
	if _, err := e.store.Grant(t.Context(), grantstore.HashHandle(pending)); !errors.Is(err, grantstore.ErrNotFound) {
		t.Fatalf("the unredeemed code is still stored: %v", err)
	}
	e.tokens(e.refresh(tr.RefreshToken)) // offline access outlives the session
}

// TestCodeForEndedSession: a session ended between the authorization
// request's session check and the code's storing gets no code; the
// browser is sent to sign in.
func TestCodeForEndedSession(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	sess := e.sessionOf(b)
	// The store refuses: the session grant is revoked, as endsession
	// does, after the request read it.
	g := grantstore.Grant{ID: grantstore.HashHandle("c"), Kind: grantstore.KindAuthorizationCode, SessionID: sess.sid,
		Created: e.clock.Now(), Expires: e.clock.Now().Add(CodeLifetime)}
	if err := e.s.endLoginSession(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateCode(t.Context(), g, MaxSessionCodes); !errors.Is(err, grantstore.ErrNoSession) {
		t.Fatalf("a code for an ended session: %v, want ErrNoSession", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, e.issuer+PathAuthorize, nil)
	areq, ae := e.s.checkAuthorize(e.s.reg.Load(), mustAuthz(t, spaRequest()))
	if ae != nil {
		t.Fatal(ae.desc)
	}
	e.s.issueCode(rec, req, areq, sess)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusFound || !strings.HasPrefix(loc, e.issuer+PathLogin+"?") {
		t.Fatalf("issueCode for an ended session: %d %s, want a redirect to the login page", rec.Code, loc)
	}
	areq.promptNone = true
	rec = httptest.NewRecorder()
	e.s.issueCode(rec, req, areq, sess)
	if loc := rec.Header().Get("Location"); !strings.Contains(loc, "error=login_required") {
		t.Fatalf("prompt=none for an ended session: %d %s, want login_required", rec.Code, loc)
	}
}

// sessionOf returns the login session of b's cookie.
func (e *loginEnv) sessionOf(b *browser) *session {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, e.issuer+PathAuthorize, nil)
	u, _ := url.Parse(e.issuer)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	sess, err := e.s.currentSession(req)
	if err != nil || sess == nil {
		e.t.Fatalf("no session: %v", err)
	}
	return sess
}

func mustAuthz(t *testing.T, q url.Values) authzParams {
	t.Helper()
	a, ok := parseAuthorizeRequest(q.Encode())
	if !ok {
		t.Fatal("bad request")
	}
	return a
}

// failingCodeDelete is a grant store whose DeleteSessionCodes fails.
type failingCodeDelete struct{ grantstore.Store }

func (failingCodeDelete) DeleteSessionCodes(context.Context, string) (int, error) {
	return 0, errors.New("store down")
}

// TestEndSessionCodeDeleteFails: when deleting the codes fails after the
// session was revoked, the user is still signed out and the failure is
// logged.
func TestEndSessionCodeDeleteFails(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) { c.Grants = failingCodeDelete{c.Grants} })
	b := e.browser()
	tr := e.tokens(e.exchange(e.code(b, spaRequest()), verifierForSPA))
	if p := b.get(e.issuer + PathEndSession + "?" + url.Values{"id_token_hint": {tr.IDToken}}.Encode()); p.StatusCode != 200 || !strings.Contains(p.body, "You are signed out") {
		t.Fatalf("end session: %d %s", p.StatusCode, p.body)
	}
	if !strings.Contains(e.logs.String(), "deleting its unredeemed codes failed") {
		t.Fatalf("the failure is not logged:\n%s", e.logs.String())
	}
	if p := b.authorize(spaRequest("prompt", "none")); !strings.Contains(p.Header.Get("Location"), "error=login_required") {
		t.Fatalf("still signed in: %s", p.Header.Get("Location"))
	}
}

// Signing in again in the same browser ends the previous login session,
// and with it the codes that session was given and did not redeem.
func TestSignInAgainDeletesPreviousSessionCodes(t *testing.T) {
	e := newLoginEnv(t)
	b := e.browser()
	pending := e.code(b, spaRequest())
	again := e.code(b, spaRequest("prompt", "login"))
	e.oauthErr(e.exchange(pending, verifierForSPA), 400, "invalid_grant")
	if _, err := e.store.Grant(t.Context(), grantstore.HashHandle(pending)); !errors.Is(err, grantstore.ErrNotFound) {
		t.Fatalf("the previous session's unredeemed code is still stored: %v", err)
	}
	e.tokens(e.exchange(again, verifierForSPA))
}
