package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/internal/sqlschema"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
)

// NotifyChannel is the channel every write notifies, with the store's
// schema as payload.
const NotifyChannel = "signet_keys"

// releaseTimeout bounds the statements that release a lock or close a
// connection: they run after the caller's ctx may have ended.
const releaseTimeout = 10 * time.Second

// Store is a key store in a PostgreSQL schema. It is safe for concurrent
// use; Close it when done.
type Store struct {
	pool    *pgxpool.Pool
	schema  string      // current_schema() of the pool's connections
	lockKey int64       // advisory lock key of Lock
	claims  *claimQueue // concurrent ClaimOnce calls, batched
	// revocations are the concurrent HasRevocation calls, batched
	// (revocationreads.go).
	revocations revocationReads
	// durableReplay: claims commit with the server's synchronous_commit
	// (WithDurableReplay).
	durableReplay bool
	// attemptCommitMode is the synchronous_commit the last statement
	// that took or settled attempts committed with (attempts.go).
	attemptCommitMode atomic.Pointer[string]
	// chains are the attempts' statements already built (attempts.go).
	chains chainCache
	// lines group concurrent attempts on one key (attemptgroups.go).
	lines attemptLines

	mu      sync.Mutex // guards closed and watches
	closed  bool
	watches map[*int]context.CancelFunc // cancels running watches
	wg      sync.WaitGroup              // running watch goroutines
}

var (
	_ keystore.Store      = (*Store)(nil)
	_ keystore.Locker     = (*Store)(nil)
	_ keystore.Revisioner = (*Store)(nil)
	_ keystore.Watcher    = (*Store)(nil)
	_ keystore.MetaStore  = (*Store)(nil)
)

// Option adjusts Open.
type Option func(*options)

type options struct {
	poolConfig    []func(*pgxpool.Config)
	durableReplay bool
}

// WithDurableReplay makes one-time identifiers (ClaimOnce) commit with
// the server's synchronous_commit, waiting for the WAL flush like every
// other write, instead of with synchronous_commit off.
func WithDurableReplay() Option {
	return func(o *options) { o.durableReplay = true }
}

// WithPoolConfig lets f adjust the pool configuration parsed from the DSN
// (pool size, connection lifetimes, tracers) before the pool is created.
func WithPoolConfig(f func(*pgxpool.Config)) Option {
	return func(o *options) { o.poolConfig = append(o.poolConfig, f) }
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx parses it) and migrates the schema. A server that cannot
// be reached gives an error wrapping keystore.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: parse dsn: %w", err)
	}
	for _, f := range o.poolConfig {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	s := &Store{pool: pool, watches: make(map[*int]context.CancelFunc), claims: newClaimQueue(), durableReplay: o.durableReplay}
	ms, err := sqlschema.Migrations(sqlschema.Postgres)
	if err != nil {
		err = fmt.Errorf("pgstore: open: %w", err)
	} else {
		err = s.migrate(ctx, ms)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.lockKey = advisoryKey("signet keys", s.schema)
	return s, nil
}

// advisoryKey derives an advisory lock key from a purpose and the schema,
// so stores in different schemas do not share locks.
func advisoryKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(purpose + "\x00" + schema))
	return int64(h.Sum64())
}

// Close ends running watches, answers the revocation reads already asked
// (HasRevocation calls after it get an error) and closes the pool's
// connections. Unlock held locks first: Close waits for them. The error
// is always nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, cancel := range s.watches {
		cancel()
	}
	s.mu.Unlock()
	s.revocations.close()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// Schema returns the schema the store's tables are in.
func (s *Store) Schema() string { return s.schema }

const createSchemaVersion = `CREATE TABLE IF NOT EXISTS schema_version (
    version    integer     NOT NULL PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate applies the migrations the schema lacks, in one transaction,
// holding an advisory lock so that concurrent Opens migrate once.
func (s *Store) migrate(ctx context.Context, ms []sqlschema.Migration) (err error) {
	known := ms[len(ms)-1].Version
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return wrap(ctx, "open: connect", err)
	}
	defer conn.Release()
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return wrap(ctx, "open: read current schema", err)
	}
	if schema == nil {
		return errors.New("pgstore: open: no schema to create tables in: search_path names no existing schema; create the schema or fix search_path in the DSN")
	}
	s.schema = *schema
	key := advisoryKey("signet migrate", s.schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		destroy(conn)
		return wrap(ctx, "open: wait for the migration lock", err)
	}
	defer func() {
		if uerr := advisoryUnlock(conn, key); uerr != nil && err == nil {
			err = fmt.Errorf("pgstore: open: release the migration lock: %w", uerr)
		}
	}()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return wrap(ctx, "open: begin migration", err)
	}
	defer func() {
		if err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			_ = tx.Rollback(rctx)
		}
	}()
	if _, err := tx.Exec(ctx, createSchemaVersion); err != nil {
		return wrap(ctx, "open: create schema_version", err)
	}
	var found int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&found); err != nil {
		return wrap(ctx, "open: read schema version", err)
	}
	if found > known {
		return fmt.Errorf("pgstore: open: schema %q: %w", s.schema, &sqlschema.TooNewError{Found: found, Known: known})
	}
	for _, m := range ms[found:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil { // no arguments: simple protocol, several statements
			return wrap(ctx, "open: apply migration "+m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.Version); err != nil {
			return wrap(ctx, "open: record migration "+m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, "open: commit migration", err)
	}
	return nil
}

// advisoryUnlock releases a session advisory lock held on conn. If that
// fails the connection is destroyed, which ends the session and the lock.
func advisoryUnlock(conn *pgxpool.Conn, key int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var released bool
	err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&released)
	if err == nil && !released {
		err = errors.New("the lock was not held: its connection was lost, so another instance may have taken it")
	}
	if err != nil {
		destroy(conn)
	}
	return err
}

// destroy takes conn out of the pool and closes it, ending its session
// and any advisory lock the session may hold.
func destroy(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	_ = conn.Hijack().Close(ctx)
}

// wrap prefixes err with the package and op. A done ctx is reported as
// such; connection failures wrap keystore.ErrUnavailable.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("pgstore: %s: %w", op, cerr)
	}
	if unavailable(err) {
		return fmt.Errorf("pgstore: %s: %w: %w", op, keystore.ErrUnavailable, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// unavailable reports whether err means the server cannot be reached or
// the connection broke, as opposed to a refused statement or bad
// credentials.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		case pgErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.Timeout(err)
}

// storedTime is t as stored: UTC, whole microseconds (PostgreSQL would
// round instead of truncating).
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	st := storedTime(t)
	return &st
}

const keyColumns = `kid, algorithm, created, signs_from, retires_at, delete_after, revoked, x509, certificate, protection, private_key`

func keyArgs(r key.Record) []any {
	return []any{r.KID, string(r.Algorithm), storedTime(r.Created), storedTime(r.SignsFrom), storedTime(r.RetiresAt),
		storedTime(r.DeleteAfter), nullTime(r.Revoked), r.X509, r.Certificate, r.Protection, r.PrivateKey}
}

// Keys returns every stored record.
func (s *Store) Keys(ctx context.Context) ([]key.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: keys: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY kid`)
	if err != nil {
		return nil, wrap(ctx, "keys", err)
	}
	defer rows.Close()
	var out []key.Record
	for rows.Next() {
		var (
			r       key.Record
			alg     string
			revoked *time.Time
		)
		if err := rows.Scan(&r.KID, &alg, &r.Created, &r.SignsFrom, &r.RetiresAt, &r.DeleteAfter, &revoked, &r.X509, &r.Certificate, &r.Protection, &r.PrivateKey); err != nil {
			if ctx.Err() != nil || unavailable(err) {
				return nil, wrap(ctx, "keys", err)
			}
			return nil, fmt.Errorf("pgstore: keys: key %q in schema %q: %w: %w", r.KID, s.schema, keystore.ErrCorrupt, err)
		}
		r.Algorithm = key.Algorithm(alg)
		r.Created, r.SignsFrom, r.RetiresAt, r.DeleteAfter = r.Created.UTC(), r.SignsFrom.UTC(), r.RetiresAt.UTC(), r.DeleteAfter.UTC()
		if revoked != nil {
			r.Revoked = revoked.UTC()
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("pgstore: keys: key %q in schema %q: %w: %w", r.KID, s.schema, keystore.ErrCorrupt, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "keys", err)
	}
	return out, nil
}

// errRefused makes a write roll back and report its sentinel.
type errRefused struct{ sentinel error }

func (e errRefused) Error() string { return e.sentinel.Error() }

// write runs change in a transaction that also bumps the revision and
// notifies watchers; both take effect at commit.
func (s *Store) write(ctx context.Context, op string, change func(pgx.Tx) error) error {
	return s.tx(ctx, op, func(tx pgx.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE store_revision SET revision = revision + 1 WHERE id = 1`); err != nil {
			return fmt.Errorf("bump revision: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, s.schema); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		return nil
	})
}

// tx runs fn in a transaction and commits it. fn reports a refused write
// by returning errRefused, whose sentinel the error wraps; any failure
// rolls back.
func (s *Store) tx(ctx context.Context, op string, fn func(pgx.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer func() {
		if err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			_ = tx.Rollback(rctx)
		}
	}()
	if err := fn(tx); err != nil {
		var refused errRefused
		if errors.As(err, &refused) {
			return fmt.Errorf("pgstore: %s: %w", op, refused.sentinel)
		}
		return wrap(ctx, op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, op+": commit", err)
	}
	return nil
}

// refuseIfNone returns errRefused{sentinel} if tag changed no row.
func refuseIfNone(tag pgconn.CommandTag, sentinel error) error {
	if tag.RowsAffected() == 0 {
		return errRefused{sentinel}
	}
	return nil
}

// CreateKey inserts r; keystore.ErrExists if its kid is taken.
func (s *Store) CreateKey(ctx context.Context, r key.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("pgstore: create: %w", err)
	}
	return s.write(ctx, "create "+strconv.Quote(r.KID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (kid) DO NOTHING`, keyArgs(r)...)
		if err != nil {
			return err
		}
		return refuseIfNone(tag, keystore.ErrExists)
	})
}

// UpdateKey replaces the record with r's kid; keystore.ErrNotFound if none.
func (s *Store) UpdateKey(ctx context.Context, r key.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("pgstore: update: %w", err)
	}
	return s.write(ctx, "update "+strconv.Quote(r.KID), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE signing_keys SET algorithm = $2, created = $3, signs_from = $4, retires_at = $5,
			delete_after = $6, revoked = $7, x509 = $8, certificate = $9, protection = $10, private_key = $11
			WHERE kid = $1`, keyArgs(r)...)
		if err != nil {
			return err
		}
		return refuseIfNone(tag, keystore.ErrNotFound)
	})
}

// DeleteKey removes kid; keystore.ErrNotFound if none.
func (s *Store) DeleteKey(ctx context.Context, kid string) error {
	return s.write(ctx, "delete "+strconv.Quote(kid), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE kid = $1`, kid)
		if err != nil {
			return err
		}
		return refuseIfNone(tag, keystore.ErrNotFound)
	})
}

// Lock takes a session advisory lock on a connection of the pool, waiting
// until it is held or ctx is done. The connection stays out of the pool
// until unlock; ctx bounds only the wait.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: lock: %w", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap(ctx, "lock", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, s.lockKey); err != nil {
		// The wait was cancelled or the connection broke; end the session
		// in case the server granted the lock as the wait ended.
		destroy(conn)
		return nil, wrap(ctx, "lock", err)
	}
	var once sync.Once
	return func() error {
		err := errors.New("pgstore: unlock: already unlocked")
		once.Do(func() {
			err = advisoryUnlock(conn, s.lockKey)
			if err != nil {
				err = wrap(context.Background(), "unlock", err)
				return
			}
			conn.Release()
		})
		return err
	}, nil
}

// Revision returns the write counter.
func (s *Store) Revision(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("pgstore: revision: %w", err)
	}
	var rev int64
	if err := s.pool.QueryRow(ctx, `SELECT revision FROM store_revision WHERE id = 1`).Scan(&rev); err != nil {
		return "", wrap(ctx, "revision", err)
	}
	return strconv.FormatInt(rev, 10), nil
}

// Watch listens for writes by any instance on a dedicated connection. The
// channel receives a value after each committed write (several writes may
// share one value) and is closed when ctx is done, the connection breaks
// or the store is closed.
func (s *Store) Watch(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: watch: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, wrap(ctx, "watch: connect", err)
	}
	closeConn := func() {
		cctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+NotifyChannel); err != nil {
		closeConn()
		return nil, wrap(ctx, "watch: listen", err)
	}

	wctx, cancel := context.WithCancel(ctx)
	id := new(int)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		closeConn()
		return nil, errors.New("pgstore: watch: the store is closed")
	}
	s.watches[id] = cancel
	s.wg.Add(1)
	s.mu.Unlock()

	ch := make(chan struct{}, 1)
	go func() {
		defer s.wg.Done()
		defer close(ch)
		defer closeConn()
		defer func() {
			s.mu.Lock()
			delete(s.watches, id)
			s.mu.Unlock()
			cancel()
		}()
		for {
			n, err := conn.WaitForNotification(wctx)
			if err != nil {
				return // ctx done, store closed or connection broken
			}
			if n.Payload != s.schema {
				continue // another store in the same database
			}
			select {
			case ch <- struct{}{}:
			default: // a signal is already pending
			}
		}
	}()
	return ch, nil
}

// Meta returns a named value; keystore.ErrNotFound if unset.
func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	op := "meta " + strconv.Quote(name)
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM store_meta WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("pgstore: %s: %w", op, keystore.ErrNotFound)
	}
	if err != nil {
		return "", wrap(ctx, op, err)
	}
	return v, nil
}

// SetMeta sets a named value.
func (s *Store) SetMeta(ctx context.Context, name, value string) error {
	return s.write(ctx, "set meta "+strconv.Quote(name), func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO store_meta (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
}
