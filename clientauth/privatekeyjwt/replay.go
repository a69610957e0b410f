package privatekeyjwt

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// Replay remembers assertion ids until they expire.
type Replay interface {
	// UseOnce records id as used until exp. It returns an error wrapping
	// ErrReplayed if id was recorded before and has not expired; any other
	// error refuses the assertion too. id is derived from the client_id
	// and the jti: 43 characters of base64url, safe as a store key. Safe
	// for concurrent use: of concurrent calls with one id, one succeeds.
	UseOnce(ctx context.Context, id string, exp time.Time) error
}

// replayID is the id a Verifier gives its Replay: the SHA-256 of the
// client_id and jti, so one client cannot burn another's jti and the id
// has a fixed length whatever the jti.
func replayID(clientID, jti string) string {
	h := sha256.New()
	h.Write([]byte(clientID))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// MemoryReplay is a [Replay] in process memory, holding at most a fixed
// number of live ids: when full of unexpired ids it refuses new ones with
// ErrReplayFull rather than forget one early. Expired ids are dropped as
// new ones arrive. It does not hold across a cluster: servers with
// several instances use their shared store.
type MemoryReplay struct {
	max int
	now func() time.Time

	mu   sync.Mutex // guards seen and exps
	seen map[string]time.Time
	exps expHeap
}

// NewMemoryReplay returns a MemoryReplay of at most max ids (at least 1)
// reading time from now (nil: time.Now).
func NewMemoryReplay(max int, now func() time.Time) *MemoryReplay {
	if max < 1 {
		max = 1
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryReplay{max: max, now: now, seen: make(map[string]time.Time)}
}

// UseOnce implements [Replay].
func (m *MemoryReplay) UseOnce(_ context.Context, id string, exp time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.exps) > 0 && !m.exps[0].exp.After(now) {
		e := heap.Pop(&m.exps).(expEntry)
		if got, ok := m.seen[e.id]; ok && got.Equal(e.exp) {
			delete(m.seen, e.id)
		}
	}
	if got, ok := m.seen[id]; ok && got.After(now) {
		return fmt.Errorf("%w (remembered until %s)", ErrReplayed, got.UTC().Format(time.RFC3339))
	}
	if !exp.After(now) {
		return nil // already expired: nothing to remember
	}
	if len(m.seen) >= m.max {
		return fmt.Errorf("%w: %d live assertion ids", ErrReplayFull, m.max)
	}
	m.seen[id] = exp
	heap.Push(&m.exps, expEntry{id: id, exp: exp})
	return nil
}

// Len returns the number of ids remembered (some may have expired).
func (m *MemoryReplay) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

type expEntry struct {
	id  string
	exp time.Time
}

// expHeap orders entries by expiry, soonest first.
type expHeap []expEntry

func (h expHeap) Len() int           { return len(h) }
func (h expHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expHeap) Push(x any)        { *h = append(*h, x.(expEntry)) }
func (h *expHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
