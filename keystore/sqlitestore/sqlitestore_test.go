package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/sqlschema"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/storetest"
)

func open(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() keystore.Store {
		path := filepath.Join(t.TempDir(), "data", "signet.db")
		return func() keystore.Store { return open(t, path) }
	})
}

// rawDB opens the database without the store, as another program would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestModes(t *testing.T) {
	old := syscall.Umask(0) // the modes must not depend on a strict umask
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "signet.db")
	s := open(t, path)
	if err := s.CreateKey(t.Context(), storetest.NewRecord()); err != nil {
		t.Fatal(err)
	}
	unlock, err := s.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	want := map[string]fs.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600, path + ".lock": 0o600}
	for p, mode := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s mode %o, want %o", filepath.Base(p), got, mode)
		}
	}
}

func TestConnectionSettings(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	var journal string
	var fk, busy int
	// Pin one connection: the settings must hold on each.
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for q, dst := range map[string]any{"PRAGMA journal_mode": &journal, "PRAGMA foreign_keys": &fk, "PRAGMA busy_timeout": &busy} {
		if err := conn.QueryRowContext(t.Context(), q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if journal != "wal" || fk != 1 || busy != int(busyTimeout.Milliseconds()) {
		t.Errorf("journal_mode %q, foreign_keys %d, busy_timeout %d; want wal, 1, %d", journal, fk, busy, busyTimeout.Milliseconds())
	}
}

func TestSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path)
	ctx := t.Context()
	latest, _ := sqlschema.Latest(sqlschema.SQLite)
	var versions []int
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		_ = rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) != latest || versions[len(versions)-1] != latest {
		t.Errorf("schema_version holds %v, want 1..%d", versions, latest)
	}

	objects := map[string]bool{}
	rows, err = s.db.QueryContext(ctx, `SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		objects[n] = true
	}
	rows.Close()
	for _, want := range []string{"table signing_keys", "table store_meta", "table store_revision", "table grants", "table schema_version",
		"index grants_expires", "index grants_family", "index grants_session"} {
		if !objects[want] {
			t.Errorf("schema lacks %s (has %v)", want, objects)
		}
	}

	// The grants table takes the login flow's grants and refuses unknown kinds.
	insert := `INSERT INTO grants (id, kind, client_id, subject, family_id, session_id, data, created_us, expires_us)
		VALUES (?, ?, 'client', 'alice', 'fam', 'sess', x'7b7d', 1, 2)`
	for i, kind := range []string{sqlschema.GrantAuthorizationCode, sqlschema.GrantRefreshToken, sqlschema.GrantSession, sqlschema.GrantRevocation,
		sqlschema.GrantJTI, sqlschema.GrantPushedRequest} {
		if _, err := s.db.ExecContext(ctx, insert, fmt.Sprint("h", i), kind); err != nil {
			t.Errorf("insert grant of kind %s: %v", kind, err)
		}
	}
	if _, err := s.db.ExecContext(ctx, insert, "bad", "bogus"); err == nil {
		t.Error("grants accepted kind 'bogus'")
	}
	var plan string
	if err := s.db.QueryRowContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM grants WHERE expires_us < 5`).Scan(new(int), new(int), new(int), &plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "grants_expires") {
		t.Errorf("expiry sweep does not use grants_expires: %s", plan)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	ctx := t.Context()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r := storetest.NewRecord()
	if err := s.CreateKey(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path) // migrations already applied: nothing to do
	rs, err := s.Keys(ctx)
	if err != nil || len(rs) != 1 || rs[0].KID != r.KID {
		t.Fatalf("after reopening, Keys = %v, %v", rs, err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if latest, _ := sqlschema.Latest(sqlschema.SQLite); n != latest {
		t.Errorf("schema_version has %d rows after reopening, want %d", n, latest)
	}
}

func TestTimesComeBackInUTC(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	r := storetest.NewRecord()
	r.Created = r.Created.In(time.FixedZone("X", 3*3600))
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

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	open(t, path)
	if _, err := rawDB(t, path).Exec(`INSERT INTO schema_version (version, applied_us) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), path)
	var tooNew *sqlschema.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 99 {
		t.Fatalf("Open error %v, want a TooNewError for version 99", err)
	}
	latest, _ := sqlschema.Latest(sqlschema.SQLite)
	want := fmt.Sprintf("sqlitestore: open %s: database schema version 99 is newer than this signet knows (%d); upgrade signet", path, latest)
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestFailedMigrationChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path)
	ms, _ := sqlschema.Migrations(sqlschema.SQLite)
	bad := append(slices.Clone(ms), sqlschema.Migration{
		Version: len(ms) + 1, Name: "9999_bad.sql",
		SQL: `CREATE TABLE half_done (x INTEGER); ALTER TABLE signing_keys ADD COLUMN nope; SELECT * FROM no_such_table;`,
	})
	err := s.migrate(t.Context(), bad)
	if err == nil || !strings.Contains(err.Error(), "apply migration 9999_bad.sql") {
		t.Fatalf("migrate error %v, want it to name the failed migration", err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'half_done'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a failed migration left its first statement applied (%d, %v)", n, err)
	}
	if err := s.db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("schema version %d after a failed migration, want %d (%v)", n, len(ms), err)
	}
}

func TestConcurrentOpensOfANewDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "signet.db")
	const n = 8
	var wg sync.WaitGroup
	stores := make([]*Store, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	var rows int
	if err := rawDB(t, path).QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if latest, _ := sqlschema.Latest(sqlschema.SQLite); rows != latest {
		t.Errorf("schema_version has %d rows, want %d: a migration ran twice", rows, latest)
	}
}

func TestCorruptRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path)
	ctx := t.Context()
	good := storetest.NewRecord()
	if err := s.CreateKey(ctx, good); err != nil {
		t.Fatal(err)
	}
	_, err := rawDB(t, path).Exec(`INSERT INTO signing_keys (kid, algorithm, created_us, signs_from_us, retires_at_us, delete_after_us, x509, protection, private_key)
		VALUES ('from-the-future', 'ML-DSA-65', 1, 2, 3, 4, 0, 'none', x'01')`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Keys(ctx)
	if !errors.Is(err, keystore.ErrCorrupt) || !errors.Is(err, key.ErrInvalidRecord) {
		t.Fatalf("Keys error %v, want keystore.ErrCorrupt wrapping key.ErrInvalidRecord", err)
	}
	if !strings.Contains(err.Error(), `"from-the-future"`) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
		t.Errorf("Keys error %q does not name the kid with the package prefix", err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM signing_keys`).Scan(&n); err != nil || n != 2 {
		t.Errorf("the corrupt row was removed (%d rows, %v)", n, err)
	}
}

func TestLockedDatabaseIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s := open(t, path+"?_busy_timeout=100")
	ctx := t.Context()
	// Another program holds the write lock.
	conn, err := rawDB(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.CreateKey(ctx, storetest.NewRecord())
	if !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("CreateKey on a locked database: error %v, want keystore.ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("CreateKey waited %s, want about the 100ms busy timeout", d)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, storetest.NewRecord()); err != nil {
		t.Fatalf("CreateKey after the lock was released: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dsn, want string }{
		{"", "names no database file"},
		{":memory:", "in-memory database"},
		{"file:x.db?mode=memory", "in-memory database"},
		{notDB, "sqlitestore: open " + notDB},
		{filepath.Join(notDB, "sub", "x.db"), "create database directory"},
	} {
		s, err := Open(t.Context(), tc.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", tc.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sqlitestore: ") {
			t.Errorf("Open(%q) error %q, want it to contain %q", tc.dsn, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, filepath.Join(dir, "x.db")); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled ctx: error %v", err)
	}
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, path, query string }{
		{"/var/lib/signet/signet.db", "/var/lib/signet/signet.db", "_busy_timeout=10000&_foreign_keys=1&_pragma=wal_autocheckpoint%280%29&_pragma=temp_store%28MEMORY%29&_txlock=immediate"},
		{"rel/signet.db?_busy_timeout=5", "rel/signet.db", "_busy_timeout=5&_foreign_keys=1&_pragma=wal_autocheckpoint%280%29&_pragma=temp_store%28MEMORY%29&_txlock=immediate"},
		{"file:rel.db?_txlock=deferred&_pragma=cache_size(-100)", "rel.db", "_busy_timeout=10000&_foreign_keys=1&_pragma=cache_size%28-100%29&_pragma=wal_autocheckpoint%280%29&_pragma=temp_store%28MEMORY%29&_txlock=immediate"},
		{"file:///abs/with%20space.db", "/abs/with space.db", "_busy_timeout=10000&_foreign_keys=1&_pragma=wal_autocheckpoint%280%29&_pragma=temp_store%28MEMORY%29&_txlock=immediate"},
		{"file://localhost/abs.db?_journal=DELETE&_fk=0", "/abs.db", "_busy_timeout=10000&_foreign_keys=1&_pragma=wal_autocheckpoint%280%29&_pragma=temp_store%28MEMORY%29&_txlock=immediate"},
	} {
		path, driverDSN, err := parseDSN(tc.dsn)
		if err != nil {
			t.Errorf("parseDSN(%q): %v", tc.dsn, err)
			continue
		}
		if want := tc.path + "?" + tc.query; path != tc.path || driverDSN != want {
			t.Errorf("parseDSN(%q) = %q, %q; want %q, %q", tc.dsn, path, driverDSN, tc.path, want)
		}
	}
	if _, _, err := parseDSN("file:a%3Fb.db"); err == nil || !strings.Contains(err.Error(), "contains '?'") {
		t.Errorf("parseDSN of a path with '?': %v", err)
	}
}

// The multi-process test: the test binary runs itself as lockChildren
// processes, each doing lock / re-read / create-if-missing on one database.

func TestProcessesCreateOneKey(t *testing.T) {
	storetest.RunProcesses(t, "TestLockChildProcess", filepath.Join(t.TempDir(), "signet.db"), openTarget)
}

// TestLockChildProcess is one child of TestProcessesCreateOneKey. The
// children also race to create and migrate the database.
func TestLockChildProcess(t *testing.T) { storetest.ProcessChild(t, openTarget) }

func openTarget(t *testing.T, path string) keystore.Store { return open(t, path) }
