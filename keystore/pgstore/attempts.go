package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signet-id/signet/throttle"
)

// The counters of the abuse budgets live in the attempts table: one row
// per key and window. Taking an attempt is one atomic statement, so
// instances sharing the schema never both take the last attempt of a
// window. An attempt on several keys (a sign-in draws on three budgets)
// is taken in one statement and settled in one (throttle.BatchStore).
// Like grant writes, these neither bump the store revision nor NOTIFY.

var _ throttle.BatchStore = (*Store)(nil)

// TakeAttempt implements throttle.Store: an upsert that starts a new
// window when the row's has ended, counts one more when under max, and
// changes nothing (no row returned) otherwise.
// (limit is throttle.Store's max.)
func (s *Store) TakeAttempt(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	const take = `
INSERT INTO attempts AS a (key, count, expires) VALUES ($1, 1, $3)
ON CONFLICT (key) DO UPDATE SET` + takeSet + `
WHERE a.expires <= $2 OR a.count < $4
RETURNING a.count`
	var n int
	err := s.pool.QueryRow(ctx, take, key, now, now.Add(window), limit).Scan(&n)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, wrap(ctx, "take attempt", err)
	}
	var expires time.Time
	if err := s.pool.QueryRow(ctx, `SELECT expires FROM attempts WHERE key = $1`, key).Scan(&expires); err != nil {
		if errors.Is(err, pgx.ErrNoRows) { // deleted in between: try again later
			return time.Second, nil
		}
		return 0, wrap(ctx, "take attempt", err)
	}
	return max(expires.Sub(now), time.Second), nil
}

// takeSet is the update of a take whose key has a row: a window that has
// ended ($2 is now) starts again with this attempt, otherwise the attempt
// is counted.
const takeSet = `
    count   = CASE WHEN a.expires <= $2 THEN 1 ELSE a.count + 1 END,
    expires = CASE WHEN a.expires <= $2 THEN EXCLUDED.expires ELSE a.expires END`

// TakeAttempts implements throttle.BatchStore: one statement, whose
// common table expressions each take one key's attempt like TakeAttempt
// and insert only when the one before took its key (it selects from that
// one's RETURNING), so a spent key stops the chain and later keys get no
// row. Being one statement it is atomic.
//
// The statement holds the row locks of the keys it took until it ends:
// callers that list their kinds of key in one order (the throttle's
// budgets do) cannot deadlock one another, and the cleaner never waits
// for a row (DeleteExpiredAttempts). A deadlock all the same (callers
// with other orders) costs PostgreSQL's deadlock_timeout and is retried.
func (s *Store) TakeAttempts(ctx context.Context, takes []throttle.Take, now time.Time) (int, time.Duration, error) {
	if len(takes) == 0 {
		return 0, 0, nil
	}
	args := make([]any, 0, 1+3*len(takes))
	args = append(args, now)
	for _, t := range takes {
		args = append(args, t.Key, now.Add(t.Window), t.Max)
	}
	var (
		n       int
		expires *time.Time
	)
	err := retryDeadlock(ctx, func() error {
		return s.pool.QueryRow(ctx, takeChain(len(takes)), args...).Scan(&n, &expires)
	})
	if err != nil {
		return 0, 0, wrap(ctx, "take attempts", err)
	}
	if n == len(takes) {
		return n, 0, nil
	}
	wait := time.Second // the row came or went after the statement's snapshot
	if expires != nil {
		wait = max(expires.Sub(now), wait)
	}
	return n, wait, nil
}

// SettleAttempts implements throttle.BatchStore: one statement whose
// common table expressions reset or give back one key each, in order
// (each waits for the one before), so it takes its row locks in the order
// the attempt took them.
func (s *Store) SettleAttempts(ctx context.Context, settles []throttle.Settle, now time.Time) error {
	if len(settles) == 0 {
		return nil
	}
	args := make([]any, 0, 1+len(settles))
	args = append(args, now)
	resets := make([]bool, len(settles))
	for i, st := range settles {
		args = append(args, st.Key)
		resets[i] = st.Reset
	}
	err := retryDeadlock(ctx, func() error {
		_, err := s.pool.Exec(ctx, settleChain(resets), args...)
		return err
	})
	if err != nil {
		return wrap(ctx, "settle attempts", err)
	}
	return nil
}

// retryDeadlock runs f again (up to three times in all) when PostgreSQL
// broke a deadlock by aborting f's statement, which then changed nothing.
func retryDeadlock(ctx context.Context, f func() error) error {
	var err error
	for range 3 {
		var pgErr *pgconn.PgError
		if err = f(); !errors.As(err, &pgErr) || pgErr.Code != "40P01" || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// takeChain is the statement that takes n keys; $1 is now, then key,
// window end and max for each key. It returns how many keys it took and,
// when fewer than n, the window end of the spent key as of the
// statement's snapshot (a key it did not change), or NULL.
func takeChain(n int) string {
	var b strings.Builder
	b.WriteString("WITH ")
	for i := range n {
		k, e, m := 3*i+2, 3*i+3, 3*i+4
		if i > 0 {
			fmt.Fprintf(&b, ",\n")
		}
		fmt.Fprintf(&b, "t%d AS (INSERT INTO attempts AS a (key, count, expires) ", i)
		if i == 0 {
			fmt.Fprintf(&b, "VALUES ($%d::text, 1, $%d::timestamptz)", k, e)
		} else {
			fmt.Fprintf(&b, "SELECT $%d::text, 1, $%d::timestamptz FROM t%d", k, e, i-1)
		}
		fmt.Fprintf(&b, "\nON CONFLICT (key) DO UPDATE SET%s\nWHERE a.expires <= $1 OR a.count < $%d::integer\nRETURNING 1)",
			strings.ReplaceAll(takeSet, "$2", "$1"), m)
	}
	b.WriteString("\nSELECT CASE")
	for i := range n {
		fmt.Fprintf(&b, " WHEN NOT EXISTS (SELECT FROM t%d) THEN %d", i, i)
	}
	fmt.Fprintf(&b, " ELSE %d END, CASE", n)
	for i := range n {
		fmt.Fprintf(&b, "\n WHEN NOT EXISTS (SELECT FROM t%d) THEN (SELECT expires FROM attempts WHERE key = $%d::text)", i, 3*i+2)
	}
	b.WriteString(" END")
	return b.String() // a few hundred bytes; pgx prepares it once per connection
}

// settleChain is the statement that settles keys $2, $3, ... ($1 is now):
// a reset deletes the key's row, a give-back uncounts one attempt of a
// window that has not ended. Each step's condition reads the step
// before, so the steps run, and lock, in order.
func settleChain(resets []bool) string {
	var b strings.Builder
	b.WriteString("WITH ")
	for i, r := range resets {
		if i > 0 {
			b.WriteString(",\n")
		}
		after := ""
		if i > 0 {
			after = fmt.Sprintf(" AND (SELECT count(*) FROM s%d) >= 0", i-1)
		}
		if r {
			fmt.Fprintf(&b, "s%d AS (DELETE FROM attempts WHERE key = $%d::text%s RETURNING 1)", i, i+2, after)
		} else {
			fmt.Fprintf(&b, "s%d AS (UPDATE attempts SET count = count - 1 WHERE key = $%d::text AND count > 0 AND expires > $1%s RETURNING 1)", i, i+2, after)
		}
	}
	fmt.Fprintf(&b, "\nSELECT count(*) FROM s%d", len(resets)-1)
	return b.String()
}

// ReturnAttempt implements throttle.Store.
func (s *Store) ReturnAttempt(ctx context.Context, key string, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE attempts SET count = count - 1 WHERE key = $1 AND count > 0 AND expires > $2`, key, now); err != nil {
		return wrap(ctx, "return attempt", err)
	}
	return nil
}

// ResetAttempts implements throttle.Store.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM attempts WHERE key = $1`, key); err != nil {
		return wrap(ctx, "reset attempts", err)
	}
	return nil
}

// DeleteExpiredAttempts deletes the counters whose window ended before
// now, returning how many; the grant cleaner's loop calls it. It skips
// the rows an attempt holds (the next round deletes them), so it never
// waits for one: waiting while holding the rows it has locked could
// deadlock with a TakeAttempts that holds one and waits for another.
func (s *Store) DeleteExpiredAttempts(ctx context.Context, now time.Time) (int64, error) {
	var tag pgconn.CommandTag
	// PostgreSQL has still been seen (rarely, in TestTakeAttemptsBatchConcurrent)
	// to pick this statement as a deadlock's victim; it then changed nothing
	// and is run again, like the attempts' own statements.
	err := retryDeadlock(ctx, func() (err error) {
		tag, err = s.pool.Exec(ctx, `
DELETE FROM attempts WHERE key IN (
    SELECT key FROM attempts WHERE expires <= $1 FOR UPDATE SKIP LOCKED)`, now)
		return err
	})
	if err != nil {
		return 0, wrap(ctx, "delete expired attempts", err)
	}
	return tag.RowsAffected(), nil
}
