package pgstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/grant"
)

var _ grant.OnceClaimer = (*Store)(nil)

// ClaimOnce stores g, a one-time identifier, in the table once_ids unless
// its id is taken by a grant or by an identifier not expired at g.Created
// (an expired one the same statement replaces). Only the id and the two
// times are stored: grant.ValidateClaim refuses a claim with other fields. INSERT ... ON CONFLICT is atomic: of concurrent
// claims of one id, from any instance, one inserts and the others see its
// row, unexpired, and change nothing.
//
// Concurrent claims on one Store are batched: whoever holds the claim
// slot sends every queued claim (up to maxClaimBatch, each id at most
// once) as one multi-row INSERT ... ON CONFLICT ... RETURNING, one round
// trip and one commit for the batch, and tells each caller whether its
// own id came back. Each caller returns only after that statement
// committed. A second claim of an id already in the batch waits for the
// next one, so it sees the first one's row exactly as if the two had
// come one after the other.
//
// The statement commits with synchronous_commit off (unless the store was
// opened WithDurableReplay): atomic and visible to every instance at
// once, answered without waiting for the WAL flush. A crash of the
// database server (not of Signet) may lose the claims of the last few
// hundred milliseconds (three times wal_writer_delay at most), never
// corrupt anything; an identifier whose claim is lost can be used once
// more while its token is still valid, a few minutes at most for client
// assertions and DPoP proofs. With synchronous replication, such a commit
// does not wait for the standby either: a failover may lose the same.
func (s *Store) ClaimOnce(ctx context.Context, g grant.Grant) error {
	const op = "claim once"
	if err := grant.ValidateClaim(g); err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	c := &claim{ctx: ctx, g: g, done: make(chan struct{})}
	s.claims.enqueue(c)
	for {
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			// The claim may still be stored by a later batch: refused
			// here, it is spent, never granted twice.
			return fmt.Errorf("pgstore: %s: %w", op, ctx.Err())
		case s.claims.slot <- struct{}{}:
		}
		// This caller holds the claim slot: send batches until its own
		// claim is answered.
		for {
			select {
			case <-c.done:
				<-s.claims.slot
				return c.err
			default:
			}
			s.claimBatch(s.claims.next())
		}
	}
}

// maxClaimBatch is the most claims one statement holds.
const maxClaimBatch = 128

// claim is one queued call of ClaimOnce.
type claim struct {
	ctx  context.Context
	g    grant.Grant
	err  error
	done chan struct{} // closed when err is final
}

// claimQueue gathers concurrent claims of one Store into batches.
type claimQueue struct {
	slot       chan struct{} // capacity 1: held by whoever sends a batch
	mu         sync.Mutex    // guards queue
	queue      []*claim
	statements atomic.Int64 // batch statements sent (tests)
	// lastCommitMode is the synchronous_commit the last claim committed
	// with (tests).
	lastCommitMode atomic.Pointer[string]
}

func newClaimQueue() *claimQueue { return &claimQueue{slot: make(chan struct{}, 1)} }

func (q *claimQueue) enqueue(c *claim) {
	q.mu.Lock()
	q.queue = append(q.queue, c)
	q.mu.Unlock()
}

// next removes and returns the next batch: queued claims in order, each
// id once, at most maxClaimBatch; a repeated id stays queued, in order,
// for a later batch.
func (q *claimQueue) next() []*claim {
	q.mu.Lock()
	defer q.mu.Unlock()
	var (
		batch []*claim
		ids   = make(map[string]struct{}, min(len(q.queue), maxClaimBatch))
		rest  = q.queue[:0]
	)
	for _, c := range q.queue {
		if _, dup := ids[c.g.ID]; dup || len(batch) == maxClaimBatch {
			rest = append(rest, c)
			continue
		}
		ids[c.g.ID] = struct{}{}
		batch = append(batch, c)
	}
	clear(q.queue[len(rest):])
	q.queue = rest
	return batch
}

// claimInsert claims the identifiers of unnest'ed column arrays in
// once_ids (schema version 11), unless grants holds the id (a grant of
// another kind, or an identifier claimed there before version 11: refused
// until the cleaner deletes it, safe, only later than needed); RETURNING
// names the ids inserted or replaced (an expired identifier), not those
// refused.
// Unless the store was opened WithDurableReplay, the statement first sets
// synchronous_commit to off for its own transaction only (set_config's
// is_local; a statement outside a transaction block is one), so that its
// commit does not wait for the WAL flush (see ClaimOnce). The setting
// ends with the statement: other statements on the connection, and every
// other write, keep the server's synchronous_commit.
const claimInsert = `WITH commit_mode AS MATERIALIZED (
		SELECT set_config('synchronous_commit', COALESCE($4::text, current_setting('synchronous_commit')), true))
	INSERT INTO once_ids (id, created, expires)
	SELECT u.id, u.created, u.expires FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS u (id, created, expires), commit_mode
	WHERE NOT EXISTS (SELECT 1 FROM grants WHERE grants.id = u.id)
	ON CONFLICT (id) DO UPDATE SET created = EXCLUDED.created, expires = EXCLUDED.expires
	WHERE once_ids.expires <= EXCLUDED.created
	RETURNING id, current_setting('synchronous_commit')`

// claimedRow is a row claimInsert returns.
type claimedRow struct {
	id         string
	commitMode string // synchronous_commit in the claim's transaction
}

// claimCommit is the synchronous_commit of the claims' transactions:
// "off" by default; WithDurableReplay, nil: the connection's own.
func (s *Store) claimCommit() *string {
	if s.durableReplay {
		return nil
	}
	off := "off"
	return &off
}

// claimBatch claims batch, whose ids are distinct, in one statement and
// answers every claim in it.
func (s *Store) claimBatch(batch []*claim) {
	const op = "claim once"
	defer func() {
		for _, c := range batch {
			close(c.done)
		}
	}()
	live := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = fmt.Errorf("pgstore: %s: %w", op, err)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	n := len(live)
	ids, created, expires := make([]string, n), make([]time.Time, n), make([]time.Time, n)
	for i, c := range live {
		ids[i], created[i], expires[i] = c.g.ID, storedTime(c.g.Created), storedTime(c.g.Expires)
	}
	// The statement outlives any one caller's context: a caller that
	// gives up has its own claim refused, not the batch's.
	bctx := context.WithoutCancel(live[0].ctx)
	s.claims.statements.Add(1)
	rows, err := s.pool.Query(bctx, claimInsert, ids, created, expires, s.claimCommit())
	var claimed map[string]struct{}
	if err == nil {
		var got []claimedRow
		got, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (claimedRow, error) {
			var r claimedRow
			err := row.Scan(&r.id, &r.commitMode)
			return r, err
		})
		claimed = make(map[string]struct{}, len(got))
		for _, r := range got {
			claimed[r.id] = struct{}{}
			s.claims.lastCommitMode.Store(&r.commitMode)
		}
	}
	for _, c := range live {
		switch _, ok := claimed[c.g.ID]; {
		case err != nil:
			c.err = wrap(c.ctx, op, err)
		case !ok:
			c.err = fmt.Errorf("pgstore: %s: %w", op, grant.ErrExists)
		}
	}
}

// onceGrantSQL reads a one-time identifier of once_ids as the grant
// ClaimOnce stored: kind jti, its id and times, nothing else.
const onceGrantSQL = `SELECT id, 'jti', '', '', NULL::text, NULL::text, ''::bytea, created, expires, NULL::timestamptz, NULL::timestamptz FROM once_ids WHERE id = $1`

// deleteExpiredOnceSQL deletes a batch of the one-time identifiers that
// expired before a time (see DeleteExpired).
const deleteExpiredOnceSQL = `DELETE FROM once_ids WHERE id IN (
	SELECT id FROM once_ids WHERE expires < $1 LIMIT $2)`
