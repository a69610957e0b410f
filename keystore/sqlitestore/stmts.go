package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// The statements of the token path (a grant read, a rotation, a sign-in's
// session) are prepared once per connection and kept, rather than parsed
// and planned again at each call: SQLite's parser was a quarter of the
// server's CPU per refresh.

// stmtCache holds the statements of one Store prepared on its *sql.DB;
// database/sql prepares each again once on every connection that runs it
// and keeps it there.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// prepares counts the statements prepared on the handle (tests).
	prepares int
}

// prepared returns query prepared on the handle.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	c.prepares++
	return st, nil
}

// closeStmts closes the prepared statements.
func (s *Store) closeStmts() error {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// execTx runs a prepared query in tx.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// queryRowTx runs a prepared query that returns a row in tx.
func (s *Store) queryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return tx.QueryRowContext(ctx, query, args...) // reports the same failure
	}
	return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// query runs a prepared query outside a transaction.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return s.db.QueryContext(ctx, query, args...) // reports the same failure
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a prepared query that returns a row outside a
// transaction.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return s.db.QueryRowContext(ctx, query, args...) // reports the same failure
	}
	return st.QueryRowContext(ctx, args...)
}
