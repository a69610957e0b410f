package server

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/clientauth"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/pgstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// The writes of writeCounter (codes_test.go) that make a flow's single
// transaction.

func (c *writeCounter) Rotate(ctx context.Context, id string, now time.Time, next grantstore.Grant) (grantstore.Grant, error) {
	c.writes.Add(1)
	return c.Store.Rotate(ctx, id, now, next)
}

func (c *writeCounter) StartSession(ctx context.Context, end, sess, code grantstore.Grant) error {
	c.writes.Add(1)
	return c.Store.StartSession(ctx, end, sess, code)
}

// A sign-in (the whole code flow) is at most two write transactions, one
// per request that changes state (the login and the code exchange), also
// when the browser had a session before; a refresh is one. Every write
// call of a grant store is one transaction in each backend.
func TestWriteTransactionsPerFlow(t *testing.T) {
	var wc *writeCounter
	e := newLoginEnv(t, func(c *Config) { wc = &writeCounter{Store: c.Grants}; c.Grants = wc })
	b := e.browser()
	for i := range 2 { // the second sign-in ends the browser's first session
		e.clock.Add(time.Second)
		before := wc.writes.Load()
		code := e.code(b, spaRequest("prompt", "login"))
		if n := wc.writes.Load() - before; n != 1 {
			t.Fatalf("sign-in %d: the login made %d write transactions, want 1", i, n)
		}
		before = wc.writes.Load()
		tr := e.tokens(e.exchange(code, verifierForSPA))
		if n := wc.writes.Load() - before; n != 1 || tr.RefreshToken == "" {
			t.Fatalf("sign-in %d: the code exchange made %d write transactions, want 1", i, n)
		}
		for j := range 3 {
			before = wc.writes.Load()
			tr = e.tokens(e.refresh(tr.RefreshToken))
			if n := wc.writes.Load() - before; n != 1 {
				t.Fatalf("refresh %d: %d write transactions, want 1", j, n)
			}
		}
	}
}

// TestRefreshFamilyBounded: a family refreshed many times keeps a
// constant number of rows (its code, the token just rotated and the
// current one) in every store, and an old, deleted token of it still
// revokes the family when it comes back.
func TestRefreshFamilyBounded(t *testing.T) {
	run := func(t *testing.T, st grantstore.Store) {
		e := newLoginEnv(t, func(c *Config) { c.Grants = st })
		tr := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
		first := tr.RefreshToken
		family := handleFamily(first)
		if family == "" {
			t.Fatalf("refresh token %q does not name its family", first)
		}
		for i := range 60 {
			e.clock.Add(time.Minute) // past the reuse interval each time
			tr = e.tokens(e.refresh(tr.RefreshToken))
			gs, err := st.FamilyGrants(t.Context(), family)
			if err != nil {
				t.Fatal(err)
			}
			if len(gs) != 3 {
				t.Fatalf("after %d refreshes the family has %d rows, want 3 (code, previous, current)", i+1, len(gs))
			}
		}
		e.oauthErr(e.refresh(first), 400, "invalid_grant")
		e.oauthErr(e.refresh(tr.RefreshToken), 400, "invalid_grant") // revoked with its family
		if ui := e.userinfo(tr.AccessToken); ui.StatusCode != 401 {
			t.Fatalf("the family's last access token still works: %d", ui.StatusCode)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, memstore.New()) })
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		run(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := pgstore.Open(t.Context(), postgresSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		run(t, st)
	})
}

// statementCounter is a pgx tracer that counts the round trips a pool
// makes: every Query, QueryRow and Exec, and every SendBatch (a batch is
// one round trip), and those of them that touch the attempts table.
type statementCounter struct {
	all, attempts atomic.Int64
}

func (c *statementCounter) count(sql string) {
	c.all.Add(1)
	if strings.Contains(sql, "attempts") {
		c.attempts.Add(1)
	}
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.count(d.SQL)
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var sql strings.Builder
	for _, q := range d.Batch.QueuedQueries {
		sql.WriteString(q.SQL)
	}
	c.count(sql.String())
	return ctx
}

func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// countedPostgres opens a PostgreSQL store in a schema of its own whose
// statements sc counts.
func countedPostgres(t *testing.T) (*pgstore.Store, *statementCounter) {
	sc := &statementCounter{}
	st, err := pgstore.Open(t.Context(), postgresSchema(t), pgstore.WithPoolConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = sc }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, sc
}

// snapshot returns the counts so far.
func (c *statementCounter) snapshot() (all, attempts int64) { return c.all.Load(), c.attempts.Load() }

// TestAttemptStatementsPerSignIn: with PostgreSQL counting the abuse
// budgets, an attempt costs the attempts table one statement to take it
// on all three of its budget keys and one to settle it (reset one key,
// give the others back), for a sign-in and for a client authentication
// that hashes; a failure is one statement (it stays counted), and a
// spent budget two (the refusal, and giving back the keys taken before
// the spent one). It was a statement per key for each (six per sign-in).
func TestAttemptStatementsPerSignIn(t *testing.T) {
	st, sc := countedPostgres(t)
	const hashedSecret = "hashed-client-secret"
	e := newLoginEnv(t, func(c *Config) {
		c.Grants, c.Attempts = st, st
		c.Clients = append(c.Clients, Client{ID: "hashed", Secrets: []*clientauth.Secret{cheapPassword(t, hashedSecret)},
			GrantTypes: []string{grantClientCredentials}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Minute})
	})
	// measure runs f and returns the statements it made: all of them and
	// those on the attempts table.
	measure := func(f func()) (all, attempts int64) {
		a0, t0 := sc.snapshot()
		f()
		a1, t1 := sc.snapshot()
		return a1 - a0, t1 - t0
	}

	b := e.browser()
	var code string
	all, att := measure(func() { code = e.code(b, spaRequest()) })
	if att != 2 {
		t.Errorf("a sign-in made %d statements on the attempts table, want 2 (take, settle)", att)
	}
	t.Logf("sign-in (authorize, login page, login): %d statements, %d of them on the attempts table", all, att)
	all, att = measure(func() { e.tokens(e.exchange(code, verifierForSPA)) })
	t.Logf("code exchange: %d statements, %d of them on the attempts table", all, att)

	all, att = measure(func() {
		p := e.clientCall(PathToken, "hashed", hashedSecret, url.Values{"grant_type": {grantClientCredentials}})
		if p.StatusCode != 200 {
			t.Fatalf("client authentication: %d %s", p.StatusCode, p.body)
		}
	})
	if att != 2 {
		t.Errorf("a client authentication that hashes made %d statements on the attempts table, want 2 (take, settle)", att)
	}
	t.Logf("client_credentials with an argon2id secret: %d statements, %d of them on the attempts table", all, att)

	lp := b.get(b.authorize(spaRequest("prompt", "login")).Header.Get("Location")).body
	for i := range userFailures {
		_, att = measure(func() {
			if p := b.submitLogin(lp, "alice", "wrong"); p.StatusCode != 200 {
				t.Fatalf("wrong password %d: %d", i, p.StatusCode)
			}
		})
		if att != 1 {
			t.Errorf("a wrong password made %d statements on the attempts table, want 1 (take; a failure stays counted)", att)
		}
	}
	_, att = measure(func() {
		if p := b.submitLogin(lp, "alice", alicePassword); p.StatusCode != 429 {
			t.Fatalf("sign-in after %d failures: %d, want 429", userFailures, p.StatusCode)
		}
	})
	if att != 2 {
		t.Errorf("a refused sign-in made %d statements on the attempts table, want 2 (take until the spent key, give back)", att)
	}
}
