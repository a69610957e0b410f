package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/pgstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// grantBackend opens a grant store on shared storage; each call is a new
// connection to the same data (another instance, or a restart).
type grantBackend func(t *testing.T) (grantstore.Store, func())

// TestGrantsPersist: codes, sessions, refresh tokens and revocations live
// in the store, so another instance on the same SQLite file or PostgreSQL
// schema, or a restarted one, honours them.
func TestGrantsPersist(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dsn := filepath.Join(t.TempDir(), "signet.db")
		testGrantsPersist(t, func(t *testing.T) (grantstore.Store, func()) {
			st, err := sqlitestore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return st, func() { st.Close() }
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgresSchema(t)
		testGrantsPersist(t, func(t *testing.T) (grantstore.Store, func()) {
			st, err := pgstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			return st, func() { st.Close() }
		})
	})
}

// postgresSchema creates a schema of its own on SIGNET_TEST_POSTGRES_DSN
// (dropped at the end) and returns a DSN that uses it, or skips.
func postgresSchema(t testing.TB) string {
	base := os.Getenv("SIGNET_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("SIGNET_TEST_POSTGRES_DSN not set: the PostgreSQL grant store is not tested here")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skip("SIGNET_TEST_POSTGRES_DSN is not a postgres:// URL")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "signet_login_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func testGrantsPersist(t *testing.T, open grantBackend) {
	keys := newFakeKeys(t)
	clock := &testClock{t: testNow}

	// One address in front of whichever instance is current.
	var current atomic.Pointer[Server]
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) }))
	issuer := "http://" + ts.Listener.Addr().String()
	instance := func() (*Server, func()) {
		st, closeStore := open(t)
		closeStore = sync.OnceFunc(closeStore)
		t.Cleanup(closeStore)
		clients, resources := loginClients(t)
		s, err := New(Config{Issuer: issuer, Keys: keys, Clients: clients, APIResources: resources, Grants: st,
			Users: loginUsers(t), Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s, closeStore
	}
	a, closeA := instance()
	b, _ := instance()
	current.Store(a)
	ts.Start()
	t.Cleanup(ts.Close)
	e := &loginEnv{t: t, ts: ts, keys: keys, clock: clock, issuer: issuer, logs: &lockedBuffer{}}

	// Sign in at A; the code is redeemed at B.
	br := e.browser()
	code := e.code(br, spaRequest())
	current.Store(b)
	tr := e.tokens(e.exchange(code, verifierForSPA))
	// The session started at A is known to B.
	if cb := e.callback(br.authorize(spaRequest("prompt", "none")), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("B does not know A's session: %v", cb)
	}
	// A replay at A is detected and revokes what B issued.
	current.Store(a)
	e.oauthErr(e.exchange(code, verifierForSPA), 400, "invalid_grant")
	current.Store(b)
	e.oauthErr(e.refresh(tr.RefreshToken), 400, "invalid_grant")
	if m := e.introspect(tr.AccessToken); m["active"] != false {
		t.Fatalf("B still accepts the access token: %v", m)
	}

	// A restart: a new instance on the same file takes over a refresh
	// token and a revocation.
	code = e.callback(br.authorize(spaRequest()), spaRedirect).Get("code")
	tr = e.tokens(e.exchange(code, verifierForSPA))
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr.AccessToken}}); p.StatusCode != 200 {
		t.Fatal(p.body)
	}
	closeA()
	c, _ := instance()
	current.Store(c)
	tr2 := e.tokens(e.refresh(tr.RefreshToken))
	if p := e.userinfo(tr.AccessToken); p.StatusCode != 401 {
		t.Fatalf("the restarted instance forgot a revocation: %d", p.StatusCode)
	}
	if p := e.userinfo(tr2.AccessToken); p.StatusCode != 200 {
		t.Fatalf("userinfo after restart: %d %s", p.StatusCode, p.body)
	}
}
