package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signet-id/signet/throttle"
)

// The counters of the abuse budgets live in the attempts table: one row
// per key and window. Taking an attempt is one atomic statement, so
// instances sharing the schema never both take the last attempt of a
// window. An attempt on several keys (a sign-in draws on three budgets)
// is taken in one statement and settled in one (throttle.BatchStore), and
// concurrent attempts whose first key is the same share those statements
// (attemptgroups.go).
// Like grant writes, these neither bump the store revision nor NOTIFY.
//
// Every statement that counts commits with synchronous_commit off, for
// its own transaction only (attemptsCommitMode): it does not wait for the
// WAL flush. The count is visible to every instance the moment the
// statement ends, as before, so the budgets hold across a cluster; what a
// crash of the database server (or a power loss) can lose is the last
// fraction of a second of counting (at most three times wal_writer_delay,
// 600 ms by default), after which the counts are a little lower than
// they were (with synchronous replication, a failover may lose the
// same). A budget is a rate limit, not a record: no token, code or
// session is written this way. The flush was most of a sign-in's cost in
// PostgreSQL (docs/benchmarks.md): a sign-in takes and settles an attempt
// on its address's budget, shared by every user behind that address, and
// each statement held that row's lock until its commit was flushed, so
// the sign-ins from one address waited for two flushes each, one after
// the other.

var _ throttle.BatchStore = (*Store)(nil)

// TakeAttempt implements throttle.Store: an upsert that starts a new
// window when the row's has ended, counts one more when under max, and
// changes nothing (no row returned) otherwise.
// (limit is throttle.Store's max.)
func (s *Store) TakeAttempt(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (time.Duration, error) {
	const take = `WITH ` + attemptsCommitMode + `
INSERT INTO attempts AS a (key, count, expires) SELECT $1::text, 1, $3::timestamptz FROM commit_mode
ON CONFLICT (key) DO UPDATE SET` + takeSet + `
WHERE a.expires <= $2 OR a.count < $4::integer
RETURNING a.count, current_setting('synchronous_commit')`
	var (
		n    int
		mode string
	)
	err := s.pool.QueryRow(ctx, take, key, now, now.Add(window), limit).Scan(&n, &mode)
	if err == nil {
		s.attemptCommitMode.Store(&mode)
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
// row. Being one statement it is atomic. Concurrent calls with the same
// first key share a statement (attemptgroups.go).
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
	c := &attemptCall{takes: takes, now: now}
	err := s.lines.do(ctx, lineKey{key: takes[0].Key}, c, s.takeGroup)
	if err == nil {
		err = c.err
	}
	if err != nil {
		return 0, 0, wrap(ctx, "take attempts", err)
	}
	return c.n, c.wait, nil
}

// takeAttempts is TakeAttempts' statement for one call.
func (s *Store) takeAttempts(ctx context.Context, takes []throttle.Take, now time.Time) (int, time.Duration, error) {
	args := make([]any, 0, 1+3*len(takes))
	args = append(args, now)
	for _, t := range takes {
		args = append(args, t.Key, now.Add(t.Window), t.Max)
	}
	var (
		n       int
		expires *time.Time
		mode    string
	)
	err := retryDeadlock(ctx, func() error {
		return s.pool.QueryRow(ctx, s.chains.take(len(takes)), args...).Scan(&n, &expires, &mode)
	})
	if err != nil {
		return 0, 0, err
	}
	s.attemptCommitMode.Store(&mode)
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
// the attempt took them. Concurrent calls with the same first key share
// a statement (attemptgroups.go).
func (s *Store) SettleAttempts(ctx context.Context, settles []throttle.Settle, now time.Time) error {
	if len(settles) == 0 {
		return nil
	}
	c := &attemptCall{settles: settles, now: now}
	err := s.lines.do(ctx, lineKey{settle: true, key: settles[0].Key}, c, s.settleGroup)
	if err == nil {
		err = c.err
	}
	if err != nil {
		return wrap(ctx, "settle attempts", err)
	}
	return nil
}

// settleAttempts is SettleAttempts' statement for one call.
func (s *Store) settleAttempts(ctx context.Context, settles []throttle.Settle, now time.Time) error {
	args := make([]any, 0, 1+len(settles))
	args = append(args, now)
	for _, st := range settles {
		args = append(args, st.Key)
	}
	var (
		n    int
		mode string
	)
	err := retryDeadlock(ctx, func() error {
		return s.pool.QueryRow(ctx, s.chains.settle(settles), args...).Scan(&n, &mode)
	})
	if err != nil {
		return err
	}
	s.attemptCommitMode.Store(&mode)
	return nil
}

// chainCache keeps the statements of TakeAttempts and SettleAttempts
// once built: a sign-in would otherwise build two of a few hundred bytes
// each (22 allocations, 6.6 KB), only for pgx to find them in its cache
// of prepared statements. A statement's text depends only on how many
// keys it takes, or on which of the keys it settles it resets: a handful
// of texts for the throttle's budgets.
type chainCache struct {
	m sync.Map // chainKey -> string
}

// chainKey names a statement: a take of n keys, or a settle of n keys
// whose resets are the set bits of resets, for one call or a group
// (attemptgroups.go).
type chainKey struct {
	settle bool
	group  bool
	n      int
	resets uint64
}

func (c *chainCache) take(n int) string {
	return c.takeOf(chainKey{n: n}, takeChain)
}

func (c *chainCache) takeGroup(n int) string {
	return c.takeOf(chainKey{group: true, n: n}, takeGroupChain)
}

func (c *chainCache) takeOf(k chainKey, build func(int) string) string {
	if q, ok := c.m.Load(k); ok {
		return q.(string)
	}
	q := build(k.n)
	c.m.Store(k, q)
	return q
}

func (c *chainCache) settle(settles []throttle.Settle) string {
	return c.settleOf(chainKey{settle: true, n: len(settles)}, settles, settleChain)
}

func (c *chainCache) settleGroup(settles []throttle.Settle) string {
	return c.settleOf(chainKey{settle: true, group: true, n: len(settles)}, settles, settleGroupChain)
}

func (c *chainCache) settleOf(k chainKey, settles []throttle.Settle, build func([]bool) string) string {
	for i, st := range settles {
		if st.Reset && i < 64 {
			k.resets |= 1 << i
		}
	}
	q, ok := c.m.Load(k)
	if ok && len(settles) <= 64 {
		return q.(string)
	}
	resets := make([]bool, len(settles))
	for i, st := range settles {
		resets[i] = st.Reset
	}
	s := build(resets)
	if len(settles) <= 64 {
		c.m.Store(k, s)
	}
	return s
}

// attemptsCommitMode is the first common table expression of every
// statement that counts attempts: it sets synchronous_commit to off for
// the statement's own transaction (set_config's is_local; a statement
// outside a transaction block is one), so that its commit does not wait
// for the WAL flush. A statement reads it (FROM commit_mode) so that it
// runs; the setting ends with the statement. current_setting in the
// statement's answer reports it (Store.attemptCommitMode).
const attemptsCommitMode = `commit_mode AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))`

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
// statement's snapshot (a key it did not change), or NULL; then the
// transaction's synchronous_commit (off: attemptsCommitMode).
func takeChain(n int) string {
	var b strings.Builder
	b.WriteString("WITH " + attemptsCommitMode)
	for i := range n {
		k, e, m := 3*i+2, 3*i+3, 3*i+4
		b.WriteString(",\n")
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
	// One row from the one row of commit_mode: its setting is made.
	b.WriteString(" END, current_setting('synchronous_commit') FROM commit_mode")
	return b.String() // a few hundred bytes; pgx prepares it once per connection
}

// settleChain is the statement that settles keys $2, $3, ... ($1 is now):
// a reset deletes the key's row, a give-back uncounts one attempt of a
// window that has not ended. Each step's condition reads the step
// before, so the steps run, and lock, in order. It returns the last
// step's count and the transaction's synchronous_commit.
func settleChain(resets []bool) string {
	return settleSteps(resets, func(i int) (string, string) {
		return fmt.Sprintf("key = $%d::text", i+2), "count - 1"
	})
}

// settleSteps is a statement of settle steps, one per element of resets,
// each after the one before: step i changes the rows step(i) matches,
// deleting them (a reset) or setting their count to its count (a
// give-back, of a window that has not ended).
func settleSteps(resets []bool, step func(i int) (match, count string)) string {
	var b strings.Builder
	b.WriteString("WITH " + attemptsCommitMode)
	for i, r := range resets {
		b.WriteString(",\n")
		after := ""
		if i > 0 {
			after = fmt.Sprintf(" AND (SELECT count(*) FROM s%d) >= 0", i-1)
		}
		match, count := step(i)
		if r {
			fmt.Fprintf(&b, "s%d AS (DELETE FROM attempts WHERE %s%s RETURNING 1)", i, match, after)
		} else {
			fmt.Fprintf(&b, "s%d AS (UPDATE attempts SET count = %s WHERE %s AND count > 0 AND expires > $1%s RETURNING 1)", i, count, match, after)
		}
	}
	// One row from the one row of commit_mode: its setting is made.
	fmt.Fprintf(&b, "\nSELECT (SELECT count(*) FROM s%d), current_setting('synchronous_commit') FROM commit_mode", len(resets)-1)
	return b.String()
}

// ReturnAttempt implements throttle.Store.
func (s *Store) ReturnAttempt(ctx context.Context, key string, now time.Time) error {
	// UPDATE ... FROM commit_mode: a row it changes is joined with
	// commit_mode, so the setting is made whenever there is a commit to
	// flush.
	return s.settleOne(ctx, "return attempt", `WITH `+attemptsCommitMode+`
UPDATE attempts SET count = count - 1 FROM commit_mode WHERE key = $1 AND count > 0 AND expires > $2
RETURNING current_setting('synchronous_commit')`, key, now)
}

// ResetAttempts implements throttle.Store.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	return s.settleOne(ctx, "reset attempts", `WITH `+attemptsCommitMode+`
DELETE FROM attempts USING commit_mode WHERE key = $1
RETURNING current_setting('synchronous_commit')`, key)
}

// settleOne runs a statement that changes one key's row and returns the
// transaction's synchronous_commit with the row it changed, if any.
func (s *Store) settleOne(ctx context.Context, op, query string, args ...any) error {
	var mode string
	err := s.pool.QueryRow(ctx, query, args...).Scan(&mode)
	switch {
	case err == nil:
		s.attemptCommitMode.Store(&mode)
	case !errors.Is(err, pgx.ErrNoRows): // no row: nothing changed, nothing to commit
		return wrap(ctx, op, err)
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
