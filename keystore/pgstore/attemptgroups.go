package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/signet-id/signet/throttle"
)

// Concurrent takes (and settles) of attempts whose first key is the same
// are grouped within an instance: every sign-in from one address draws
// first on that address's budget, whose one row each statement locks
// until it commits, so N sign-ins at once were N statements queued on
// that lock in PostgreSQL (a third of the budgets' PostgreSQL CPU in
// BenchmarkAttemptsFlow, docs/benchmarks.md). Here a first key has a line
// in the instance: a call finding the line idle runs its own statement at
// once, as before; calls arriving while a statement of the line runs wait
// in memory, and when it ends the first of them runs one statement for
// itself and every waiting call it can group with (groupFits), taking the
// first key once for all of them, then each caller's other keys.
//
// Each caller gets the outcome it would have got had the group's calls
// come one after the other in arrival order: a group is formed only of
// calls of one shape whose other keys are all distinct, so no caller's
// outcome depends on another's but through the first key, and the first
// key is taken for all of them only when all of them fit (count + G ≤
// max, or a window that has ended, and G ≤ max); otherwise each call runs
// its own statement in order, and once one is refused at the first key
// the rest are too (nothing in the group gives an attempt back). The
// statement is atomic and locks the first key's row as any take does, so
// instances sharing the schema still never over-grant. Settles group the
// same way, on a line of their own: giving back G attempts of the first
// key is the G give-backs in a row.

// maxAttemptGroup bounds the calls of one grouped statement.
const maxAttemptGroup = 64

// attemptLines are the lines of the store's first keys: a line is in
// lines while a statement of its key runs, with the calls that came
// meanwhile, in arrival order.
type attemptLines struct {
	mu    sync.Mutex // guards lines
	lines map[lineKey][]*attemptCall
}

// lineKey names a line: takes or settles whose first key is key.
type lineKey struct {
	settle bool
	key    string
}

// attemptCall is one TakeAttempts or SettleAttempts call and, once ready,
// its outcome.
type attemptCall struct {
	takes   []throttle.Take
	settles []throttle.Settle
	now     time.Time

	n    int
	wait time.Duration
	err  error

	// ready is closed when the outcome is set, or when lead is: this
	// call runs the statement of the group lead (itself first).
	ready chan struct{}
	lead  []*attemptCall
	alone [1]*attemptCall // the group of a call that runs alone
}

// runGroup runs a group's statement and sets each call's outcome; a
// group of one runs under its caller's ctx.
type runGroup func(ctx context.Context, group []*attemptCall)

// do runs c on line k, alone at once or grouped after the line's running
// statement. It fails only when ctx ends while c waits for its group.
func (l *attemptLines) do(ctx context.Context, k lineKey, c *attemptCall, run runGroup) error {
	l.mu.Lock()
	waiting, busy := l.lines[k]
	if !busy {
		if l.lines == nil {
			l.lines = make(map[lineKey][]*attemptCall)
		}
		l.lines[k] = nil
		l.mu.Unlock()
		c.alone[0] = c
		run(ctx, c.alone[:])
		l.next(k)
		return nil
	}
	c.ready = make(chan struct{})
	l.lines[k] = append(waiting, c)
	l.mu.Unlock()
	select {
	case <-c.ready:
	case <-ctx.Done():
		l.mu.Lock()
		// The line is there while c waits in it or in a group.
		if waiting := l.lines[k]; slices.Contains(waiting, c) { // not in a group yet: leave
			l.lines[k] = slices.DeleteFunc(waiting, func(o *attemptCall) bool { return o == c })
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Unlock()
		<-c.ready
	}
	if c.lead != nil {
		// The others wait for this statement: a caller that has gone does
		// not cancel it (its attempt is settled like any other), a bound
		// does.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		run(gctx, c.lead)
		cancel()
		for _, o := range c.lead[1:] {
			close(o.ready)
		}
		l.next(k)
	}
	return nil
}

// next ends line k's statement: the first waiting call leads the next
// group, with every later one that fits it, or the line goes idle.
func (l *attemptLines) next(k lineKey) {
	l.mu.Lock()
	waiting := l.lines[k]
	if len(waiting) == 0 {
		delete(l.lines, k)
		l.mu.Unlock()
		return
	}
	first := waiting[0]
	group := []*attemptCall{first}
	keys := map[string]bool{k.key: true}
	first.otherKeys(func(key string) { keys[key] = true })
	rest := waiting[:0]
	for _, c := range waiting[1:] {
		if groupFits(k, first, c, len(group), keys) {
			group = append(group, c)
			c.otherKeys(func(key string) { keys[key] = true })
		} else {
			rest = append(rest, c)
		}
	}
	clear(waiting[len(rest):])
	l.lines[k] = rest
	l.mu.Unlock()
	first.lead = group
	close(first.ready)
}

// otherKeys calls f with each of c's keys but the first.
func (c *attemptCall) otherKeys(f func(string)) {
	for _, t := range c.takes[min(1, len(c.takes)):] {
		f(t.Key)
	}
	for _, s := range c.settles[min(1, len(c.settles)):] {
		f(s.Key)
	}
}

// groupFits reports whether c can join first's group of n calls, whose
// keys so far are in keys: the same shape (the same budgets, or the same
// resets), and none of its other keys in the group yet. A take group
// holds at most the first key's max calls.
func groupFits(k lineKey, first, c *attemptCall, n int, keys map[string]bool) bool {
	if n >= maxAttemptGroup {
		return false
	}
	if k.settle {
		if len(c.settles) != len(first.settles) {
			return false
		}
		for i, s := range c.settles {
			if s.Reset != first.settles[i].Reset || i > 0 && keys[s.Key] {
				return false
			}
		}
		return true
	}
	if len(c.takes) != len(first.takes) || n >= first.takes[0].Max {
		return false
	}
	for i, t := range c.takes {
		f := first.takes[i]
		if t.Max != f.Max || t.Window != f.Window || i > 0 && keys[t.Key] {
			return false
		}
	}
	return true
}

// latest is the group's clock: the latest of its callers' (a group is
// applied at once, no earlier than any of its calls).
func latest(group []*attemptCall) time.Time {
	return slices.MaxFunc(group, func(a, b *attemptCall) int { return a.now.Compare(b.now) }).now
}

// takeGroup is TakeAttempts for a group (runGroup).
func (s *Store) takeGroup(ctx context.Context, group []*attemptCall) {
	if len(group) == 1 {
		c := group[0]
		c.n, c.wait, c.err = s.takeAttempts(ctx, c.takes, c.now)
		return
	}
	now, first, m := latest(group), group[0].takes, len(group[0].takes)
	args := make([]any, 0, 5+3*(m-1))
	args = append(args, now, first[0].Key, now.Add(first[0].Window), first[0].Max, len(group))
	for j := 1; j < m; j++ {
		keys := make([]string, len(group))
		for i, c := range group {
			keys[i] = c.takes[j].Key
		}
		args = append(args, keys, now.Add(first[j].Window), first[j].Max)
	}
	var (
		all  bool
		took = make([][]bool, m)
		ends = make([][]pgtype.Timestamptz, m)
		mode string
	)
	dest := []any{&all}
	for j := 1; j < m; j++ {
		dest = append(dest, &took[j], &ends[j])
	}
	dest = append(dest, &mode)
	err := retryDeadlock(ctx, func() error {
		return s.pool.QueryRow(ctx, s.chains.takeGroup(m), args...).Scan(dest...)
	})
	if err != nil {
		for _, c := range group {
			c.err = err
		}
		return
	}
	s.attemptCommitMode.Store(&mode)
	if !all {
		s.takeInTurn(ctx, group, now)
		return
	}
	for i, c := range group {
		c.n = 1
		for c.n < m && took[c.n][i] {
			c.n++
		}
		if c.n < m {
			c.wait = time.Second // the row came or went after the statement's snapshot
			if e := ends[c.n][i]; e.Valid {
				c.wait = max(e.Time.Sub(c.now), c.wait)
			}
		}
	}
}

// takeInTurn takes a group's calls one statement each, in arrival order,
// at the group's clock now, when its first key could not take them all at
// once: once one is refused at the first key, so are the rest, until the
// end of its window.
func (s *Store) takeInTurn(ctx context.Context, group []*attemptCall, now time.Time) {
	var spent time.Time // when the first key allows an attempt again
	for _, c := range group {
		if spent.IsZero() {
			var wait time.Duration
			c.n, wait, c.err = s.takeAttempts(ctx, c.takes, now)
			if wait == 0 {
				continue
			}
			if c.n == 0 {
				spent = now.Add(wait)
			}
			c.wait = max(now.Add(wait).Sub(c.now), time.Second)
			continue
		}
		c.wait = max(spent.Sub(c.now), time.Second)
	}
}

// settleGroup is SettleAttempts for a group (runGroup).
func (s *Store) settleGroup(ctx context.Context, group []*attemptCall) {
	if len(group) == 1 {
		c := group[0]
		c.err = s.settleAttempts(ctx, c.settles, c.now)
		return
	}
	now, first := latest(group), group[0].settles
	args := make([]any, 0, 2+len(first))
	args = append(args, now, first[0].Key, len(group))
	for j := 1; j < len(first); j++ {
		keys := make([]string, len(group))
		for i, c := range group {
			keys[i] = c.settles[j].Key
		}
		args = append(args, keys)
	}
	var (
		n    int
		mode string
	)
	err := retryDeadlock(ctx, func() error {
		return s.pool.QueryRow(ctx, s.chains.settleGroup(first), args...).Scan(&n, &mode)
	})
	if err == nil {
		s.attemptCommitMode.Store(&mode)
	}
	for _, c := range group {
		c.err = err
	}
}

// takeGroupChain is the statement that takes m keys for a group of G
// calls: $1 is now, $2 the first key, $3 its window's end, $4 its max, $5
// G; then for each other key, the callers' keys (an array in arrival
// order), the window's end and the max. The first key is taken G times
// only when all G fit; each later step takes the keys of the callers
// whose key the step before took, in key order (so statements lock rows
// in one order). It returns whether the first key was taken, then for
// each other key which callers' it took and each one's window end as of
// the statement's snapshot (arrays in the callers' order), then the
// transaction's synchronous_commit.
func takeGroupChain(m int) string {
	var b strings.Builder
	b.WriteString("WITH " + attemptsCommitMode + `,
t0 AS (INSERT INTO attempts AS a (key, count, expires) VALUES ($2::text, $5::integer, $3::timestamptz)
ON CONFLICT (key) DO UPDATE SET
    count   = CASE WHEN a.expires <= $1 THEN EXCLUDED.count ELSE a.count + EXCLUDED.count END,
    expires = CASE WHEN a.expires <= $1 THEN EXCLUDED.expires ELSE a.expires END
WHERE a.expires <= $1 OR a.count + EXCLUDED.count <= $4::integer
RETURNING a.key)`)
	for j := 1; j < m; j++ {
		k, e, mx := 3*j+3, 3*j+4, 3*j+5
		fmt.Fprintf(&b, ",\nt%d AS (INSERT INTO attempts AS a (key, count, expires) ", j)
		if j == 1 {
			fmt.Fprintf(&b, "SELECT u.k, 1, $%d::timestamptz FROM unnest($%d::text[]) AS u(k) WHERE EXISTS (SELECT FROM t0)", e, k)
		} else {
			fmt.Fprintf(&b, "SELECT u.k, 1, $%d::timestamptz FROM unnest($%d::text[], $%d::text[]) AS u(p, k) WHERE u.p IN (SELECT key FROM t%d)", e, k-3, k, j-1)
		}
		fmt.Fprintf(&b, " ORDER BY u.k\nON CONFLICT (key) DO UPDATE SET%s\nWHERE a.expires <= $1 OR a.count < $%d::integer\nRETURNING a.key)",
			strings.ReplaceAll(takeSet, "$2", "$1"), mx)
	}
	b.WriteString("\nSELECT EXISTS (SELECT FROM t0)")
	for j := 1; j < m; j++ {
		fmt.Fprintf(&b, ", s%d.took, s%d.ends", j, j)
	}
	b.WriteString(", current_setting('synchronous_commit') FROM commit_mode")
	for j := 1; j < m; j++ {
		fmt.Fprintf(&b, ",\n(SELECT array_agg(u.k IN (SELECT key FROM t%d) ORDER BY u.i) AS took, array_agg(a.expires ORDER BY u.i) AS ends\n FROM unnest($%d::text[]) WITH ORDINALITY AS u(k, i) LEFT JOIN attempts a ON a.key = u.k) s%d", j, 3*j+3, j)
	}
	return b.String()
}

// settleGroupChain is the statement that settles keys for a group of G
// calls whose resets are resets: $1 is now, $2 the first key, $3 G, then
// for each other key the callers' keys (an array). The first key is
// reset, or G of its window's attempts given back; each later step
// resets or gives back one attempt of each caller's key, after the step
// before (rows locked in the order of the keys' kinds, as settleChain).
// It returns the last step's count and the transaction's
// synchronous_commit.
func settleGroupChain(resets []bool) string {
	return settleSteps(resets, func(i int) (string, string) {
		if i == 0 {
			return "key = $2::text", "greatest(count - $3::integer, 0)"
		}
		return fmt.Sprintf("key = ANY($%d::text[])", i+3), "count - 1"
	})
}
