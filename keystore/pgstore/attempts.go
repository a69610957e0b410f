package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/throttle"
)

// The counters of the abuse budgets live in the attempts table: one row
// per key and window. Taking an attempt is one atomic statement, so
// instances sharing the schema never both take the last attempt of a
// window. Like grant writes, these neither bump the store revision nor
// NOTIFY.

var _ throttle.Store = (*Store)(nil)

// TakeAttempt implements throttle.Store: an upsert that starts a new
// window when the row's has ended, counts one more when under max, and
// changes nothing (no row returned) otherwise.
// (limit is throttle.Store's max.)
func (s *Store) TakeAttempt(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	const take = `
INSERT INTO attempts AS a (key, count, expires) VALUES ($1, 1, $3)
ON CONFLICT (key) DO UPDATE SET
    count   = CASE WHEN a.expires <= $2 THEN 1 ELSE a.count + 1 END,
    expires = CASE WHEN a.expires <= $2 THEN EXCLUDED.expires ELSE a.expires END
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
// now, returning how many; the grant cleaner's loop calls it.
func (s *Store) DeleteExpiredAttempts(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM attempts WHERE expires <= $1`, now)
	if err != nil {
		return 0, wrap(ctx, "delete expired attempts", err)
	}
	return tag.RowsAffected(), nil
}
