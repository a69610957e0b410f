package throttle

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrTableFull: a Memory store tracks as many live keys as it may and
// refused a new one (see Memory).
var ErrTableFull = errors.New("throttle: too many keys are throttled at once")

// Store counts attempts per key in fixed windows. A window starts with a
// key's first attempt and lasts the window given to that attempt.
// Implementations must be safe for concurrent use, and in a cluster
// shared by every instance, with Take atomic: two instances never both
// take the last attempt of a window.
type Store interface {
	// TakeAttempt counts one attempt on key at now unless max attempts
	// are already counted in key's window; then it counts nothing and
	// returns how long until the window ends (> 0).
	TakeAttempt(ctx context.Context, key string, max int, window time.Duration, now time.Time) (wait time.Duration, err error)
	// ReturnAttempt gives back one attempt of key's current window (it
	// was not a failure); nothing when the window has ended.
	ReturnAttempt(ctx context.Context, key string, now time.Time) error
	// ResetAttempts forgets key.
	ResetAttempts(ctx context.Context, key string) error
}

// Take is one key's part of an attempt taken in a batch: at most Max
// attempts per Window.
type Take struct {
	Key    string
	Max    int
	Window time.Duration
}

// Settle ends one key's part of an attempt settled in a batch: Reset
// forgets the key (ResetAttempts), otherwise the attempt is given back
// (ReturnAttempt).
type Settle struct {
	Key   string
	Reset bool
}

// BatchStore is a Store that takes and settles the attempts of several
// keys at once, in one round trip to where the counts are kept (one
// database statement). A Limiter uses it when its Store has it, with the
// same results as the one-key methods called in order.
type BatchStore interface {
	Store
	// TakeAttempts is TakeAttempt on each of takes in order, stopping at
	// the first whose budget is spent: it returns how many it took (the
	// first n) and, when n < len(takes), how long until takes[n]'s window
	// ends (> 0). Keys after the spent one are not touched. It is atomic:
	// on an error nothing was taken. The keys are distinct.
	TakeAttempts(ctx context.Context, takes []Take, now time.Time) (n int, wait time.Duration, err error)
	// SettleAttempts is ResetAttempts or ReturnAttempt on each of
	// settles, in order. The keys are distinct.
	SettleAttempts(ctx context.Context, settles []Settle, now time.Time) error
}

// DefaultTrackedKeys is how many keys a Memory store tracks by default.
const DefaultTrackedKeys = 100000

// Memory is a Store in this process's memory, bounded to a number of
// keys. When the table is full, keys whose window ended are dropped; if
// it is still full, a new key is refused (TakeAttempt reports a wait
// until the earliest live window ends, and ErrTableFull) and no live key
// is ever forgotten early. Full sweeps run at most once per such wait, so
// a flood of new keys costs a map lookup each.
type Memory struct {
	cap int

	mu        sync.Mutex // guards entries and nextSweep
	entries   map[string]*counter
	nextSweep time.Time // a full table has no expired entry before it
}

type counter struct {
	n       int
	expires time.Time
}

// NewMemory returns a Memory store of at most cap keys (zero means
// DefaultTrackedKeys).
func NewMemory(cap int) *Memory {
	if cap <= 0 {
		cap = DefaultTrackedKeys
	}
	return &Memory{cap: cap, entries: make(map[string]*counter)}
}

// TakeAttempt implements Store.
func (m *Memory) TakeAttempt(_ context.Context, key string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.entries[key]
	switch {
	case c != nil && now.Before(c.expires):
		if c.n >= max {
			return c.expires.Sub(now), nil
		}
		c.n++
		return 0, nil
	case c != nil:
		c.n, c.expires = 1, now.Add(window)
		return 0, nil
	}
	if len(m.entries) >= m.cap {
		if wait := m.sweep(now); wait > 0 {
			return wait, ErrTableFull
		}
	}
	if max < 1 {
		return window, nil
	}
	m.entries[key] = &counter{n: 1, expires: now.Add(window)}
	return 0, nil
}

// sweep drops expired entries of a full table; m.mu is held. It returns
// how long until an entry can be dropped when none could, else 0.
func (m *Memory) sweep(now time.Time) time.Duration {
	if now.Before(m.nextSweep) {
		return m.nextSweep.Sub(now)
	}
	var earliest time.Time
	for k, c := range m.entries {
		if !now.Before(c.expires) {
			delete(m.entries, k)
		} else if earliest.IsZero() || c.expires.Before(earliest) {
			earliest = c.expires
		}
	}
	if len(m.entries) < m.cap {
		return 0
	}
	m.nextSweep = earliest
	return earliest.Sub(now)
}

// ReturnAttempt implements Store.
func (m *Memory) ReturnAttempt(_ context.Context, key string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.entries[key]; c != nil && now.Before(c.expires) && c.n > 0 {
		c.n--
	}
	return nil
}

// ResetAttempts implements Store.
func (m *Memory) ResetAttempts(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}

// Len returns the number of keys tracked.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
