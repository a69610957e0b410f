package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
)

// maxRevocationBatch is the most ids one revocation read sends.
const maxRevocationBatch = 128

// revocationSQL tells whether $1 is a revocation record.
const revocationSQL = `SELECT 1 FROM grants WHERE id = $1 AND kind = 'revocation'`

// revocationBatchSQL names the revocation records among the ids of $1.
const revocationBatchSQL = `SELECT id FROM grants WHERE id = ANY($1::text[]) AND kind = 'revocation'`

// errClosed: the store was closed.
var errClosed = errors.New("the store is closed")

// revocationReads gathers the concurrent HasRevocation calls of one Store
// into batches. A sender goroutine, started by the read that finds none
// running, takes every queued read (up to maxRevocationBatch), sends
// their ids as one statement, answers each read from its rows and goes on
// with the reads queued meanwhile; it ends when the queue is empty. One
// statement is in flight at a time, so while it runs the reads that
// arrive gather for the next one instead of each taking a connection of
// its own and waking a backend of its own.
//
// A read joins only a batch whose statement is not sent yet: the sender
// takes the queue, then sends. So every read's statement starts after
// the read was asked, and under READ COMMITTED it sees every revocation
// committed, by any instance, before its statement started, in
// particular every one committed before the introspection that asked.
// A read never gets the answer of a statement sent before it arrived.
type revocationReads struct {
	mu      sync.Mutex        // guards queue, sending, closed and the reads' batch and gone
	queue   []*revocationRead // asked, not taken by a batch yet
	sending bool              // a sender runs; it clears this when it finds the queue empty
	closed  bool              // the store was closed: reads are refused
	wg      sync.WaitGroup    // the sender
}

// revocationRead is one call of HasRevocation.
type revocationRead struct {
	ctx     context.Context
	id      string
	batch   *revocationBatch // the batch that took it, nil while queued
	gone    bool             // the caller gave up while the read was queued
	revoked bool
	err     error
	done    chan struct{} // closed when revoked and err are final
}

// revocationBatch is one statement's reads in flight.
type revocationBatch struct {
	ctx     context.Context // the statement's: ends when every caller gave up
	cancel  context.CancelFunc
	waiting int // callers still waiting for the answer
}

// read asks whether id is a revocation record: at once with a statement
// of its own when none is in flight, else in the next batch not yet sent.
// It waits for the answer or for ctx.
func (q *revocationReads) read(ctx context.Context, s *Store, id string) (bool, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, fmt.Errorf("pgstore: %s: %w", opHasRevocation, errClosed)
	}
	if !q.sending {
		// Nothing in flight: this caller sends its own statement, under
		// its own ctx, as a lone read did before reads were batched (no
		// goroutine, no batch). Reads arriving meanwhile queue for the
		// sender started after it.
		q.sending = true
		q.wg.Add(1)
		q.mu.Unlock()
		revoked, err := s.readRevocation(ctx, id)
		q.handOff(s)
		if err != nil {
			return false, wrap(ctx, opHasRevocation, err)
		}
		return revoked, nil
	}
	r := &revocationRead{ctx: ctx, id: id, done: make(chan struct{})}
	q.queue = append(q.queue, r)
	q.mu.Unlock()
	select {
	case <-r.done:
		return r.revoked, r.err
	case <-ctx.Done():
		q.leave(r)
		return false, fmt.Errorf("pgstore: %s: %w", opHasRevocation, ctx.Err())
	}
}

// handOff ends a lone read's turn as the sender: a sender goroutine takes
// the reads queued meanwhile, or no sender runs.
func (q *revocationReads) handOff(s *Store) {
	q.mu.Lock()
	start := len(q.queue) > 0
	if start {
		q.wg.Add(1)
	} else {
		q.sending = false
	}
	q.mu.Unlock()
	q.wg.Done()
	if start {
		go s.sendRevocationReads()
	}
}

// leave takes r's caller, whose context ended, off the reads waiting: a
// queued read will not be sent, and a batch with no caller left has its
// statement cancelled, as each caller's own statement was before reads
// were batched. The others of r's batch keep waiting for their answer.
func (q *revocationReads) leave(r *revocationRead) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := r.batch
	if b == nil {
		r.gone = true
		return
	}
	if b.waiting--; b.waiting == 0 {
		b.cancel()
	}
}

// next moves into batch, in order, up to maxRevocationBatch queued reads
// whose callers still wait, and returns their batch; nil when the queue
// is empty, and then the sender must end: the next read starts another.
func (q *revocationReads) next(batch []*revocationRead) ([]*revocationRead, *revocationBatch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) == 0 {
		q.sending = false
		return batch, nil
	}
	n := min(len(q.queue), maxRevocationBatch)
	b := &revocationBatch{}
	for _, r := range q.queue[:n] {
		if r.gone || r.ctx.Err() != nil {
			continue // its caller returns, or returned, its context's error
		}
		r.batch = b
		b.waiting++
		batch = append(batch, r)
	}
	rest := copy(q.queue, q.queue[n:])
	clear(q.queue[rest:])
	q.queue = q.queue[:rest]
	if len(batch) > 0 {
		// The statement outlives any one caller's context: a caller that
		// gives up has its own read refused, not the batch's.
		b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(batch[0].ctx))
	}
	return batch, b
}

// close refuses new reads and waits until the sender has answered the
// queued ones.
func (q *revocationReads) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wg.Wait()
}

// sendRevocationReads sends the queued reads' batches, one statement at a
// time, until the queue is empty.
func (s *Store) sendRevocationReads() {
	q := &s.revocations
	defer q.wg.Done()
	var (
		batch []*revocationRead
		ids   []string
	)
	for {
		var b *revocationBatch
		batch, b = q.next(batch[:0])
		if b == nil {
			return
		}
		if len(batch) == 0 {
			continue
		}
		ids = ids[:0]
		for _, r := range batch {
			ids = append(ids, r.id)
		}
		s.readRevocations(b, batch, ids)
	}
}

// readRevocations sends the ids of batch (a duplicate id is sent twice,
// and answered once for both) in one statement and answers each read:
// revoked, or the statement's error, which fails this batch's reads only.
func (s *Store) readRevocations(b *revocationBatch, batch []*revocationRead, ids []string) {
	defer b.cancel()
	var (
		revoked []string
		err     error
	)
	if len(ids) == 1 {
		var yes bool
		if yes, err = s.readRevocation(b.ctx, ids[0]); yes {
			revoked = ids
		}
	} else {
		var rows pgx.Rows
		rows, err = s.pool.Query(b.ctx, revocationBatchSQL, ids)
		if err == nil {
			revoked, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
	}
	for _, r := range batch {
		if err != nil {
			r.err = wrap(r.ctx, opHasRevocation, err)
		} else {
			r.revoked = slices.Contains(revoked, r.id)
		}
		close(r.done)
	}
}

// readRevocation reads one id, the statement of a lone read; its error
// is the driver's.
func (s *Store) readRevocation(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, revocationSQL, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
