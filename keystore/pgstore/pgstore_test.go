package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/internal/pgtest"
	"github.com/signet-id/signet/internal/sqlschema"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/storetest"
)

const envDSN = "SIGNET_TEST_POSTGRES_DSN"

// serverDSN returns the test server's DSN or skips the test.
func serverDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skip("SIGNET_TEST_POSTGRES_DSN not set: PostgreSQL store tests skipped")
	}
	return dsn
}

// withParams adds run-time parameters to a URL or key=value DSN.

// admin connects to the test server as the test role.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverDSN(t))
	if err != nil {
		t.Fatalf("connect to %s: %v", envDSN, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// newSchema creates a schema of its own for the test, dropped when it
// ends, and returns its name and a DSN whose search_path and
// application_name are that schema.
func newSchema(t testing.TB) (name, dsn string) {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name = "signet_test_" + hex.EncodeToString(b)
	if _, err := admin(t).Exec(context.Background(), `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverDSN(t))
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name, pgtest.WithParams(t, serverDSN(t), "search_path", name, "application_name", name)
}

func open(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	serverDSN(t)
	storetest.Run(t, func(t *testing.T) func() keystore.Store {
		_, dsn := newSchema(t)
		return func() keystore.Store { return open(t, dsn) }
	})
}

func TestInstancesRacingStartUpCreateOneKey(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := t.Context()
	const instances = 8
	var created atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range instances {
		wg.Go(func() {
			<-start
			// Each instance has its own pool, opens (and migrates) the
			// fresh schema, then locks, re-reads and creates if needed.
			s, err := Open(ctx, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 2 }))
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if err := lockRereadCreate(ctx, s, &created); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	rs, err := open(t, dsn).Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || created.Load() != 1 {
		t.Fatalf("%d instances racing start-up left %d keys (%d creations), want exactly 1", instances, len(rs), created.Load())
	}
	var versions int
	if err := open(t, dsn).pool.QueryRow(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if latest, _ := sqlschema.Latest(sqlschema.Postgres); versions != latest {
		t.Errorf("schema_version has %d rows, want %d: a migration ran twice", versions, latest)
	}
}

func lockRereadCreate(ctx context.Context, s *Store, created *atomic.Int32) error {
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	rs, err := s.Keys(ctx)
	if err != nil || len(rs) > 0 {
		return err
	}
	time.Sleep(20 * time.Millisecond) // generating a key takes time: widen the race
	if err := s.CreateKey(ctx, storetest.NewRecord()); err != nil {
		return err
	}
	created.Add(1)
	return nil
}

func TestSchema(t *testing.T) {
	schema, dsn := newSchema(t)
	s := open(t, dsn)
	ctx := t.Context()
	if s.Schema() != schema {
		t.Errorf("Schema() = %q, want %q", s.Schema(), schema)
	}
	var objects []string
	rows, err := s.pool.Query(ctx, `SELECT relkind::text || ' ' || relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'i') ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o string
		_ = rows.Scan(&o)
		objects = append(objects, o)
	}
	rows.Close()
	for _, want := range []string{"r signing_keys", "r store_meta", "r store_revision", "r grants", "r schema_version",
		"i grants_expires", "i grants_family", "i grants_session", "i grants_subject"} {
		if !slices.Contains(objects, want) {
			t.Errorf("schema %s lacks %s (has %v)", schema, want, objects)
		}
	}
	insert := `INSERT INTO grants (id, kind, client_id, subject, family_id, session_id, data, created, expires)
		VALUES ($1, $2, 'client', 'alice', 'fam', 'sess', '\x7b7d', now(), now() + interval '1 hour')`
	for i, kind := range []string{sqlschema.GrantAuthorizationCode, sqlschema.GrantRefreshToken, sqlschema.GrantSession, sqlschema.GrantRevocation,
		sqlschema.GrantJTI, sqlschema.GrantPushedRequest} {
		if _, err := s.pool.Exec(ctx, insert, fmt.Sprint("h", i), kind); err != nil {
			t.Errorf("insert grant of kind %s: %v", kind, err)
		}
	}
	if _, err := s.pool.Exec(ctx, insert, "bad", "bogus"); err == nil {
		t.Error("grants accepted kind 'bogus'")
	}
}

func TestReopenAppliesNothing(t *testing.T) {
	_, dsn := newSchema(t)
	ctx := t.Context()
	s := open(t, dsn)
	r := storetest.NewRecord()
	if err := s.CreateKey(ctx, r); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dsn)
	rs, err := s.Keys(ctx)
	if err != nil || len(rs) != 1 || rs[0].KID != r.KID {
		t.Fatalf("after reopening, Keys = %v, %v", rs, err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if latest, _ := sqlschema.Latest(sqlschema.Postgres); n != latest {
		t.Errorf("schema_version has %d rows after reopening, want %d", n, latest)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	schema, dsn := newSchema(t)
	open(t, dsn)
	if _, err := admin(t).Exec(t.Context(), `INSERT INTO `+schema+`.schema_version (version) VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), dsn)
	var tooNew *sqlschema.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 42 {
		t.Fatalf("Open error %v, want a TooNewError for version 42", err)
	}
	latest, _ := sqlschema.Latest(sqlschema.Postgres)
	want := fmt.Sprintf(`pgstore: open: schema %q: database schema version 42 is newer than this signet knows (%d); upgrade signet`, schema, latest)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestFailedMigrationChangesNothing(t *testing.T) {
	schema, dsn := newSchema(t)
	s := open(t, dsn)
	ms, _ := sqlschema.Migrations(sqlschema.Postgres)
	bad := append(slices.Clone(ms), sqlschema.Migration{
		Version: len(ms) + 1, Name: "9999_bad.sql",
		SQL: `CREATE TABLE half_done (x integer); SELECT * FROM no_such_table;`,
	})
	err := s.migrate(t.Context(), bad)
	if err == nil || !strings.Contains(err.Error(), "apply migration 9999_bad.sql") {
		t.Fatalf("migrate error %v, want it to name the failed migration", err)
	}
	var exists bool
	if err := s.pool.QueryRow(t.Context(), `SELECT to_regclass($1) IS NOT NULL`, schema+".half_done").Scan(&exists); err != nil || exists {
		t.Errorf("a failed migration left its first statement applied (%v, %v)", exists, err)
	}
	var v int
	if err := s.pool.QueryRow(t.Context(), `SELECT MAX(version) FROM schema_version`).Scan(&v); err != nil || v != len(ms) {
		t.Errorf("schema version %d after a failed migration, want %d (%v)", v, len(ms), err)
	}
	// The migration lock was released: another Open goes through.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	s2, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open after a failed migration: %v", err)
	}
	s2.Close()
}

func TestNoSchema(t *testing.T) {
	dsn := pgtest.WithParams(t, serverDSN(t), "search_path", "signet_no_such_schema")
	_, err := Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "search_path names no existing schema") {
		t.Fatalf("Open with no usable schema: error %v", err)
	}
}

func TestTimesComeBackInUTC(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	r := storetest.NewRecord()
	r.Created = r.Created.In(time.FixedZone("X", -4*3600))
	if err := s.CreateKey(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := rs[0].Created; got.Location() != time.UTC || !got.Equal(r.Created) {
		t.Errorf("Created = %s, want %s in UTC", got, r.Created.UTC())
	}
}

func TestCorruptRow(t *testing.T) {
	schema, dsn := newSchema(t)
	s := open(t, dsn)
	ctx := t.Context()
	if err := s.CreateKey(ctx, storetest.NewRecord()); err != nil {
		t.Fatal(err)
	}
	_, err := admin(t).Exec(ctx, `INSERT INTO `+schema+`.signing_keys (kid, algorithm, created, signs_from, retires_at, delete_after, x509, protection, private_key)
		VALUES ('from-the-future', 'ML-DSA-65', now(), now(), now() + interval '1 day', now() + interval '2 days', false, 'none', '\x01')`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Keys(ctx)
	if !errors.Is(err, keystore.ErrCorrupt) || !errors.Is(err, key.ErrInvalidRecord) {
		t.Fatalf("Keys error %v, want keystore.ErrCorrupt wrapping key.ErrInvalidRecord", err)
	}
	if !strings.Contains(err.Error(), `"from-the-future"`) || !strings.HasPrefix(err.Error(), "pgstore: ") {
		t.Errorf("Keys error %q does not name the kid with the package prefix", err)
	}
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// This test needs no server.
func TestUnreachableServerIsUnavailable(t *testing.T) {
	dsn := "postgres://signet:x@" + closedPort(t) + "/signet?sslmode=disable&connect_timeout=5"
	start := time.Now()
	_, err := Open(t.Context(), dsn)
	if !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("Open of a closed port: error %v, want keystore.ErrUnavailable", err)
	}
	if !strings.HasPrefix(err.Error(), "pgstore: open") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %s to fail", d)
	}
}

// This test needs no server.
func TestBadDSN(t *testing.T) {
	_, err := Open(t.Context(), "postgres://signet:secret@host:notaport/db")
	if err == nil || !strings.HasPrefix(err.Error(), "pgstore: open: parse dsn") {
		t.Fatalf("Open with a bad DSN: error %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
	if errors.Is(err, keystore.ErrUnavailable) {
		t.Errorf("a bad DSN is a configuration error, not ErrUnavailable: %v", err)
	}
}

func TestBadPasswordIsNotUnavailable(t *testing.T) {
	u, err := url.Parse(serverDSN(t))
	if err != nil || u.User == nil {
		t.Skipf("%s is not a URL with a user: cannot derive a wrong password", envDSN)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong-password")
	_, err = Open(t.Context(), u.String())
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if errors.Is(err, keystore.ErrUnavailable) {
		t.Errorf("a wrong password is a configuration error, not ErrUnavailable: %v", err)
	}
	if !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("error %q does not say the password failed", err)
	}
}

// terminate ends the server sessions of application name app whose query
// starts with prefix, and waits until they are gone.
func terminate(t *testing.T, app, prefix string) {
	t.Helper()
	var n int
	err := admin(t).QueryRow(t.Context(), `SELECT COUNT(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE $2 AND pid <> pg_backend_pid()`, app, prefix+"%").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no session of %s running %q to terminate", app, prefix)
	}
}

func TestBrokenConnectionIsUnavailable(t *testing.T) {
	schema, dsn := newSchema(t)
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.MaxConns = 1 }))
	ctx := t.Context()
	if _, err := s.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	terminate(t, schema, "SELECT")
	_, err := s.Keys(ctx)
	if !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("Keys on a terminated connection: error %v, want keystore.ErrUnavailable", err)
	}
	if _, err := s.Keys(ctx); err != nil {
		t.Fatalf("Keys after the pool replaced the connection: %v", err)
	}
}

func TestWatchEndsWhenConnectionBreaks(t *testing.T) {
	schema, dsn := newSchema(t)
	s := open(t, dsn)
	ch, err := s.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, schema, "LISTEN")
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("watch signalled a change instead of closing")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed within 5s of its connection breaking")
	}
}

func TestCloseEndsWatches(t *testing.T) {
	_, dsn := newSchema(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10s with a watch running")
	}
	if _, ok := <-ch; ok {
		t.Error("watch channel received a value after Close, want closed")
	}
	if _, err := s.Watch(t.Context()); err == nil {
		t.Error("Watch on a closed store succeeded")
	}
}

func TestSchemasAreIndependent(t *testing.T) {
	_, dsnA := newSchema(t)
	_, dsnB := newSchema(t)
	a, b := open(t, dsnA), open(t, dsnB)
	ctx := t.Context()
	revB, err := b.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := b.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlockB, err := b.Lock(short)
	if err != nil {
		t.Fatalf("a lock in another schema blocked Lock: %v", err)
	}
	unlockB()
	if err := a.CreateKey(ctx, storetest.NewRecord()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Error("a write in another schema was signalled")
	case <-time.After(300 * time.Millisecond):
	}
	if rs, err := b.Keys(ctx); err != nil || len(rs) != 0 {
		t.Errorf("schema B sees %d keys (%v), want 0", len(rs), err)
	}
	if now, _ := b.Revision(ctx); now != revB {
		t.Errorf("schema B's revision changed from %s to %s after a write in A", revB, now)
	}
}

func TestLockLostWithItsConnection(t *testing.T) {
	schema, dsn := newSchema(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := t.Context()
	unlock, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, schema, "SELECT pg_advisory_lock")
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlockB, err := b.Lock(short)
	if err != nil {
		t.Fatalf("the lock of a dead session was not released: %v", err)
	}
	defer unlockB()
	if err := unlock(); err == nil {
		t.Error("unlock of a lock lost with its connection reported success")
	}
}

func TestUnlockTwice(t *testing.T) {
	_, dsn := newSchema(t)
	s := open(t, dsn)
	unlock, err := s.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err == nil || !strings.Contains(err.Error(), "already unlocked") {
		t.Errorf("second unlock error %v, want already unlocked", err)
	}
}
