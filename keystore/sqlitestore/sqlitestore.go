package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/internal/flock"
	"github.com/signet-id/signet/internal/sqlschema"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
)

// busyTimeout is how long a statement waits for another writer before it
// fails with SQLITE_BUSY (keystore.ErrUnavailable).
const busyTimeout = 10 * time.Second

// Store is a key store in a SQLite database. It is safe for concurrent
// use; Close it when done.
type Store struct {
	db       *sql.DB
	path     string // the database file
	lockPath string // the flock file of Lock

	// writer is the write slot: its holder commits the queued writes of
	// this handle as one transaction (tx), so this handle's writers queue
	// in the process rather than in SQLite's busy handler, which polls.
	// Other handles and processes queue on the busy timeout.
	writer  chan struct{}
	queueMu sync.Mutex
	queue   []*write
	// commits counts the transactions tx committed (tests).
	commits atomic.Int64
	// claims[k] is the statement of a batch of up to 1<<k claims
	// (claimManySQL), prepared when first needed, once per connection
	// rather than once per batch; claimStatements counts their executions
	// (tests).
	claims          []*sql.Stmt
	claimStatements atomic.Int64
	// replay is the connection that commits batches of one-time
	// identifiers only, with synchronous=NORMAL (see ClaimOnce); nil when
	// the store was opened with DurableReplay. relaxedCommits counts its
	// commits (tests).
	replay         *sql.Conn
	relaxedCommits atomic.Int64
	// cache holds the token path's prepared statements (stmts.go).
	cache stmtCache
	// ckpt checkpoints the WAL in the background (checkpoint.go).
	ckpt checkpointer
	// flushes: the database is at synchronous FULL or EXTRA, where
	// SQLite fsyncs the WAL in every commit; stats count the writes
	// (writestats.go).
	flushes bool
	stats   writeStats
}

var (
	_ keystore.Store      = (*Store)(nil)
	_ keystore.Locker     = (*Store)(nil)
	_ keystore.Revisioner = (*Store)(nil)
	_ keystore.MetaStore  = (*Store)(nil)
)

// Open opens (creating if needed) the database at dsn and migrates it.
//
// dsn is a file path, optionally as a "file:" URI, optionally followed by
// "?" and modernc.org/sqlite parameters (_pragma=..., _busy_timeout=...).
// Open sets _foreign_keys=1 and _txlock=immediate itself, and
// _busy_timeout=10000 unless dsn sets it; it drops _journal_mode and puts
// the database in WAL mode once. In-memory databases are refused: every
// connection would get its own.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	path, driverDSN, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", driverDSN)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	// As many idle as open: a connection closed when idle takes its
	// prepared statements (stmts.go) with it, and a new one parses the
	// schema again.
	db.SetMaxIdleConns(8)
	s := &Store{db: db, path: path, lockPath: path + ".lock", writer: make(chan struct{}, 1),
		claims: make([]*sql.Stmt, bits.Len(maxBatch-1)+1)}
	ms, err := sqlschema.Migrations(sqlschema.SQLite)
	if err != nil {
		err = fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err == nil {
		err = s.enableWAL(ctx)
	}
	if err == nil {
		err = s.migrate(ctx, ms)
	}
	if err == nil && !o.DurableReplay {
		s.replay, err = replayConn(ctx, db)
	}
	if err == nil {
		s.flushes, err = commitsFlush(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	s.startCheckpointer()
	return s, nil
}

// Options are Open's settings; the zero value is the default.
type Options struct {
	// DurableReplay makes batches of one-time identifiers (ClaimOnce)
	// wait for the disk flush like every other write. By default they
	// commit with synchronous=NORMAL: atomic, shared by every handle at
	// once, and kept when the process crashes, but the last such commits
	// may be lost if the operating system crashes or the power fails
	// (see ClaimOnce).
	DurableReplay bool
}

// replayConn returns a connection of db set to synchronous=NORMAL, kept
// for the batches of one-time identifiers.
func replayConn(ctx context.Context, db *sql.DB) (*sql.Conn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open the replay connection: %w", err)
	}
	if _, err := c.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		c.Close()
		return nil, fmt.Errorf("sqlitestore: open the replay connection: %w", err)
	}
	return c, nil
}

// parseDSN returns the database file named by dsn and the DSN to give the
// driver.
func parseDSN(dsn string) (path, driverDSN string, err error) {
	rest, query, _ := strings.Cut(dsn, "?")
	if p, ok := strings.CutPrefix(rest, "file:"); ok {
		p = strings.TrimPrefix(p, "//localhost")
		if strings.HasPrefix(p, "//") {
			p = p[2:] // file:///abs/path
		}
		if rest, err = url.PathUnescape(p); err != nil {
			return "", "", fmt.Errorf("sqlitestore: dsn %q: %w", dsn, err)
		}
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("sqlitestore: dsn %q: %w", dsn, err)
	}
	switch {
	case rest == "":
		return "", "", fmt.Errorf("sqlitestore: dsn %q names no database file: give a path such as /var/lib/signet/signet.db", dsn)
	case rest == ":memory:" || q.Get("mode") == "memory" || strings.HasPrefix(q.Get("vfs"), "mem"):
		return "", "", fmt.Errorf("sqlitestore: dsn %q is an in-memory database, which every connection would see empty: give a file path, or use memstore", dsn)
	case strings.ContainsAny(rest, "?#"):
		return "", "", fmt.Errorf("sqlitestore: database path %q contains '?' or '#': choose another file name", rest)
	}
	if q.Get("_busy_timeout") == "" && q.Get("_timeout") == "" {
		q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	}
	// WAL is set once by Open (it is kept in the file): switching a
	// connection's journal mode needs an exclusive lock, and a process
	// opening a connection while another writes would fail.
	q.Del("_journal_mode")
	q.Del("_journal")
	q.Set("_foreign_keys", "1")
	q.Del("_fk")
	q.Set("_txlock", "immediate")
	q["_pragma"] = tempStoreMemory(noAutoCheckpoint(q["_pragma"]))
	return rest, rest + "?" + q.Encode(), nil
}

// createFile creates the database file (0600) and its directory (0700) if
// they do not exist, so SQLite does not create them with looser modes.
// SQLite gives the -wal and -shm files the database file's mode.
func createFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it
	}
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	return f.Close()
}

// enableWAL puts the database in WAL mode if it is not yet. The switch
// needs an exclusive lock that SQLite does not wait for, so it is retried
// while other processes hold the database, up to the busy timeout.
func (s *Store) enableWAL(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.wrap(ctx, "open "+s.path, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(busyTimeout)
	delay := 2 * time.Millisecond
	for {
		var mode string
		err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("sqlitestore: open %s: journal mode stays %q, want wal: use a local file", s.path, mode)
		case !isBusy(err) || time.Now().After(deadline):
			return s.wrap(ctx, "open "+s.path+": set WAL mode", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlitestore: open %s: set WAL mode: %w", s.path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

const createSchemaVersion = `CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_us INTEGER NOT NULL
) STRICT`

// migrate applies the migrations the database lacks, in one IMMEDIATE
// transaction: concurrent Opens of a new database queue, and the first
// migrates it.
func (s *Store) migrate(ctx context.Context, ms []sqlschema.Migration) (err error) {
	known := ms[len(ms)-1].Version
	fail := func(what string, err error) error {
		return s.wrap(ctx, "open "+s.path+": "+what, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail("begin migration", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, createSchemaVersion); err != nil {
		return fail("create schema_version", err)
	}
	var found int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&found); err != nil {
		return fail("read schema version", err)
	}
	if found > known {
		return fmt.Errorf("sqlitestore: open %s: %w", s.path, &sqlschema.TooNewError{Found: found, Known: known})
	}
	for _, m := range ms[found:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fail("apply migration "+m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_us) VALUES (?, ?)`, m.Version, time.Now().UnixMicro()); err != nil {
			return fail("record migration "+m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("commit migration", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stopCheckpointer()
	var rerr error
	if s.replay != nil {
		rerr = s.replay.Close()
	}
	errs := []error{rerr, s.closeStmts()}
	for _, st := range s.claims {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if err := errors.Join(append(errs, s.db.Close())...); err != nil {
		return fmt.Errorf("sqlitestore: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// wrap prefixes err with the package and op. A done ctx is reported as
// such; a database that is locked past the busy timeout or cannot be
// opened or read wraps keystore.ErrUnavailable.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, cerr)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
			return fmt.Errorf("sqlitestore: %s: %w: %w", op, keystore.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// Times are stored as microseconds since the Unix epoch; NULL is zero.

func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

const keyColumns = `kid, algorithm, created_us, signs_from_us, retires_at_us, delete_after_us, revoked_us, x509, certificate, protection, private_key`

// Keys returns every stored record.
func (s *Store) Keys(ctx context.Context) ([]key.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: keys: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY kid`)
	if err != nil {
		return nil, s.wrap(ctx, "keys", err)
	}
	defer rows.Close()
	var out []key.Record
	for rows.Next() {
		var (
			r                                   key.Record
			alg                                 string
			created, signsFrom, retires, delete int64
			revoked                             sql.NullInt64
		)
		if err := rows.Scan(&r.KID, &alg, &created, &signsFrom, &retires, &delete, &revoked, &r.X509, &r.Certificate, &r.Protection, &r.PrivateKey); err != nil {
			return nil, fmt.Errorf("sqlitestore: keys: key %q: %w: %w", r.KID, keystore.ErrCorrupt, err)
		}
		r.Algorithm = key.Algorithm(alg)
		r.Created, r.SignsFrom, r.RetiresAt, r.DeleteAfter = fromMicros(created), fromMicros(signsFrom), fromMicros(retires), fromMicros(delete)
		if revoked.Valid {
			r.Revoked = fromMicros(revoked.Int64)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("sqlitestore: keys: key %q in %s: %w: %w", r.KID, s.path, keystore.ErrCorrupt, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "keys", err)
	}
	return out, nil
}

// errNoChange makes a write roll back with the sentinel it carries.
type errNoChange struct{ sentinel error }

func (e errNoChange) Error() string { return e.sentinel.Error() }
func (e errNoChange) Unwrap() error { return e.sentinel }

// write runs change in an IMMEDIATE transaction (tx) that also bumps the
// revision. change reports a refused write (ErrExists, ErrNotFound) by
// returning errNoChange.
func (s *Store) write(ctx context.Context, op string, change func(*sql.Tx) error) error {
	return s.tx(ctx, op, func(tx *sql.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE store_revision SET revision = revision + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("bump revision: %w", err)
		}
		return nil
	})
}

// tx runs fn in an IMMEDIATE transaction and commits it. fn reports a
// refused write by returning errNoChange, whose sentinel the error wraps;
// any failure undoes fn's changes.
//
// Writes of this handle are group-committed: a writer queues its fn, and
// whoever holds the write slot runs every queued fn (up to maxBatch) in
// one transaction, each inside its own savepoint so that one's failure
// undoes only its own changes, then commits once: one fsync for the
// batch. Each caller returns only after the commit of its batch, so what
// it was told is durable is durable. While a batch commits, the next one
// gathers.
func (s *Store) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	return s.queueWrite(&write{ctx: ctx, op: op, fn: fn})
}

// txStatement is tx for an fn that runs one statement and changes nothing
// when it fails or reports errNoChange: SQLite undoes a failed statement's
// changes itself, so in a batch fn needs no savepoint of its own (three
// statements fewer per write).
func (s *Store) txStatement(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	return s.queueWrite(&write{ctx: ctx, op: op, fn: fn, statement: true})
}

// queueWrite queues w and returns once it is committed or refused.
func (s *Store) queueWrite(w *write) error {
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", w.op, err)
	}
	defer s.stats.answered(time.Now())
	w.done = make(chan struct{})
	s.queueMu.Lock()
	s.queue = append(s.queue, w)
	s.queueMu.Unlock()
	for {
		select {
		case <-w.done:
			return w.err
		case s.writer <- struct{}{}:
		}
		// This caller holds the write slot. Let the goroutines that are
		// ready to run reach their writes first: with few CPUs (a server
		// on one, GOMAXPROCS=1) nothing else runs while a batch commits
		// without blocking (a commit that skips the flush), so without
		// this every write would be a batch of its own.
		runtime.Gosched()
		// Commit batches until its own write is done.
		for {
			select {
			case <-w.done:
				<-s.writer
				return w.err
			default:
			}
			s.queueMu.Lock()
			n := min(len(s.queue), maxBatch)
			batch := slices.Clone(s.queue[:n])
			s.queue = slices.Delete(s.queue, 0, n)
			s.queueMu.Unlock()
			s.commit(batch)
		}
	}
}

// maxBatch is the most writes one group commit holds.
const maxBatch = 64

// write is one queued call of tx.
type write struct {
	ctx       context.Context
	op        string
	fn        func(*sql.Tx) error
	statement bool // fn is one statement: no savepoint needed (txStatement)
	// relaxed: the write only claims a one-time identifier (ClaimOnce,
	// claim set, no fn), whose batch may commit without waiting for the
	// disk flush.
	relaxed bool
	// claim is the one-time identifier of a ClaimOnce, which has no fn:
	// commit claims those of a batch together (claimAll).
	claim *grant.Grant
	err   error
	done  chan struct{} // closed when err is final
}

// commit runs batch in one transaction and answers every write in it.
func (s *Store) commit(batch []*write) {
	if len(batch) == 0 {
		return
	}
	s.stats.batch(len(batch))
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	fail := func(op string, err error) {
		for _, w := range batch {
			if w.err == nil {
				w.err = s.wrap(w.ctx, w.op+op, err)
			}
		}
	}
	// The transaction outlives any one caller's context: a caller that
	// gives up has its own write refused, not the batch's.
	bctx := context.WithoutCancel(batch[0].ctx)
	relaxed := s.replay != nil
	for _, w := range batch {
		relaxed = relaxed && w.relaxed
	}
	var tx *sql.Tx
	var err error
	if relaxed {
		tx, err = s.replay.BeginTx(bctx, nil)
	} else {
		tx, err = s.db.BeginTx(bctx, nil)
	}
	if err != nil {
		fail("", err)
		return
	}
	grouped := len(batch) > 1
	var claims []*write
	for _, w := range batch {
		if w.claim != nil {
			claims = append(claims, w)
		}
	}
	changed := len(claims) > 0 && s.claimAll(bctx, tx, claims)
	for _, w := range batch {
		if w.claim != nil {
			continue // claimed above
		}
		if err := w.ctx.Err(); err != nil {
			w.err = fmt.Errorf("sqlitestore: %s: %w", w.op, err)
			continue
		}
		savepoint := grouped && !w.statement
		if savepoint {
			if _, err := s.execTx(bctx, tx, `SAVEPOINT w`); err != nil {
				w.err = s.wrap(w.ctx, w.op, err)
				continue
			}
		}
		ferr := w.fn(tx)
		switch {
		case ferr == nil && savepoint:
			if _, err := s.execTx(bctx, tx, `RELEASE w`); err != nil {
				_ = tx.Rollback()
				fail(": release", err)
				return
			}
			changed = true
		case ferr == nil:
			changed = true
		default:
			var nc errNoChange
			if errors.As(ferr, &nc) {
				w.err = fmt.Errorf("sqlitestore: %s: %w", w.op, nc.sentinel)
			} else {
				w.err = s.wrap(w.ctx, w.op, ferr)
			}
			if savepoint {
				_, err1 := s.execTx(bctx, tx, `ROLLBACK TO w`)
				_, err2 := s.execTx(bctx, tx, `RELEASE w`)
				if err := errors.Join(err1, err2); err != nil {
					_ = tx.Rollback()
					fail(": roll back", err)
					return
				}
			}
		}
	}
	if !changed {
		_ = tx.Rollback()
		return
	}
	s.committed()
	if relaxed {
		s.relaxedCommits.Add(1)
	}
	t0 := time.Now()
	err = tx.Commit()
	if !relaxed && s.flushes {
		s.stats.flushed(t0)
	}
	if err != nil {
		fail(": commit", err)
	}
}

// affected returns errNoChange{sentinel} if res changed no row.
func affected(res sql.Result, sentinel error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNoChange{sentinel}
	}
	return nil
}

func keyArgs(r key.Record) []any {
	x509 := 0
	if r.X509 {
		x509 = 1
	}
	return []any{r.KID, string(r.Algorithm), micros(r.Created), micros(r.SignsFrom), micros(r.RetiresAt), micros(r.DeleteAfter),
		nullMicros(r.Revoked), x509, r.Certificate, r.Protection, r.PrivateKey}
}

// CreateKey inserts r; keystore.ErrExists if its kid is taken.
func (s *Store) CreateKey(ctx context.Context, r key.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create: %w", err)
	}
	return s.write(ctx, "create "+strconv.Quote(r.KID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kid) DO NOTHING`, keyArgs(r)...)
		if err != nil {
			return err
		}
		return affected(res, keystore.ErrExists)
	})
}

// UpdateKey replaces the record with r's kid; keystore.ErrNotFound if none.
func (s *Store) UpdateKey(ctx context.Context, r key.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: update: %w", err)
	}
	return s.write(ctx, "update "+strconv.Quote(r.KID), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE signing_keys SET algorithm = ?2, created_us = ?3, signs_from_us = ?4,
			retires_at_us = ?5, delete_after_us = ?6, revoked_us = ?7, x509 = ?8, certificate = ?9, protection = ?10,
			private_key = ?11 WHERE kid = ?1`, keyArgs(r)...)
		if err != nil {
			return err
		}
		return affected(res, keystore.ErrNotFound)
	})
}

// DeleteKey removes kid; keystore.ErrNotFound if none.
func (s *Store) DeleteKey(ctx context.Context, kid string) error {
	return s.write(ctx, "delete "+strconv.Quote(kid), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE kid = ?`, kid)
		if err != nil {
			return err
		}
		return affected(res, keystore.ErrNotFound)
	})
}

// Lock takes an exclusive flock on "<database>.lock", waiting until it is
// free or ctx is done. Each call holds its own open file, so goroutines of
// one process exclude each other as processes do.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: lock: %w", err)
	}
	l, err := flock.Acquire(ctx, s.lockPath)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: lock %s: %w", s.lockPath, err)
	}
	var once sync.Once
	return func() error {
		err := errors.New("sqlitestore: unlock: already unlocked")
		once.Do(func() {
			err = l.Unlock()
			if err != nil {
				err = fmt.Errorf("sqlitestore: unlock %s: %w", s.lockPath, err)
			}
		})
		return err
	}, nil
}

// Revision returns the write counter.
func (s *Store) Revision(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sqlitestore: revision: %w", err)
	}
	var rev int64
	if err := s.db.QueryRowContext(ctx, `SELECT revision FROM store_revision WHERE id = 1`).Scan(&rev); err != nil {
		return "", s.wrap(ctx, "revision", err)
	}
	return strconv.FormatInt(rev, 10), nil
}

// Meta returns a named value; keystore.ErrNotFound if unset.
func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	op := "meta " + strconv.Quote(name)
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM store_meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlitestore: %s: %w", op, keystore.ErrNotFound)
	}
	if err != nil {
		return "", s.wrap(ctx, op, err)
	}
	return v, nil
}

// SetMeta sets a named value.
func (s *Store) SetMeta(ctx context.Context, name, value string) error {
	return s.write(ctx, "set meta "+strconv.Quote(name), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO store_meta (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
}
