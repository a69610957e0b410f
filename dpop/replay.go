package dpop

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Replay remembers proof ids so that each is used once.
//
// Record a proof only after the rest of the request is authenticated
// (client authentication at the token endpoint, the access token at a
// resource): a DPoP proof is self-signed, so anyone can make valid ones,
// and recording them before would let an unauthenticated flood fill the
// store. A proof that is verified but not yet recorded can be presented
// again in the meantime; the request it rides on is authenticated, and
// only one of the two records succeeds.
type Replay interface {
	// UseOnce records id until exp. It returns ErrReplayed when id is
	// already recorded and has not expired, or the store's error.
	UseOnce(ctx context.Context, id string, exp time.Time) error
}

// MarkUsed records p's jti in r (see [Replay] for when). A replay is
// ErrReplayed (class ErrInvalidProof); any other error is the store's,
// and the request should fail as a server error, not a client one.
func MarkUsed(ctx context.Context, r Replay, p *Proof) error {
	err := r.UseOnce(ctx, p.ReplayID(), p.Expires)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrReplayed):
		return err
	}
	return fmt.Errorf("dpop: recording the proof's jti: %w", err)
}

// ErrReplayFull: the in-memory replay cache holds its maximum of
// unexpired ids. The proof is refused (a server error: answer 503), never
// accepted unrecorded.
var ErrReplayFull = errors.New("dpop: the replay cache is full")

// MemoryReplay is a bounded in-memory Replay for one process. A cluster
// needs a shared store instead: a proof refused here can be replayed at
// another instance.
type MemoryReplay struct {
	max int
	now func() time.Time

	mu   sync.Mutex // guards ids and heap
	ids  map[string]time.Time
	heap expHeap
}

// NewMemoryReplay returns a replay cache holding at most max unexpired
// ids (max >= 1), on clock now (nil: time.Now).
func NewMemoryReplay(max int, now func() time.Time) (*MemoryReplay, error) {
	if max < 1 {
		return nil, fmt.Errorf("dpop: a replay cache must hold at least one id (got %d)", max)
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryReplay{max: max, now: now, ids: make(map[string]time.Time)}, nil
}

// UseOnce implements Replay. Expired ids are dropped first; an id whose
// exp has passed is not recorded at all.
func (m *MemoryReplay) UseOnce(ctx context.Context, id string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.heap) > 0 && !m.heap[0].exp.After(now) {
		e := heap.Pop(&m.heap).(entry)
		if m.ids[e.id].Equal(e.exp) {
			delete(m.ids, e.id)
		}
	}
	if _, ok := m.ids[id]; ok {
		return ErrReplayed
	}
	if !exp.After(now) {
		return nil
	}
	if len(m.ids) >= m.max {
		return ErrReplayFull
	}
	m.ids[id] = exp
	heap.Push(&m.heap, entry{id: id, exp: exp})
	return nil
}

// Len returns how many unexpired-or-not-yet-swept ids are held.
func (m *MemoryReplay) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids)
}

type entry struct {
	id  string
	exp time.Time
}

// expHeap is a min-heap of entries by exp.
type expHeap []entry

func (h expHeap) Len() int           { return len(h) }
func (h expHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
