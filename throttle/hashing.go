package throttle

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// ErrBusy: the password hashing budget is in use and its queue is full.
// Answer "try again shortly" (503 with Retry-After).
var ErrBusy = errors.New("throttle: password hashing is at capacity; try again shortly")

// Defaults of the hashing budget.
const (
	// DefaultHashingMemoryKiB is the memory all argon2id hashes in flight
	// may use together: two hashes with the default parameters (64 MiB).
	DefaultHashingMemoryKiB = 128 << 10
	// DefaultHashingQueue is how many verifications may wait for memory;
	// more are refused with ErrBusy.
	DefaultHashingQueue = 32
)

// collectKiB is the size of a hash from which release collects before it
// gives the memory back: argon2id allocates its whole memory at once and
// drops it when done, so with Go's default pacing (GOGC=100) the heap
// would grow to twice the budget plus one hash per allocating goroutine
// before the collector runs (measured: 407 MB peak RSS for a 128 MiB
// budget). Collecting first keeps the resident memory near the budget;
// the cost is small beside the hash's (argon2id's blocks hold no
// pointers, so there is little to mark). Release must therefore be
// called after the hash's memory is unreachable (when argon2.IDKey has
// returned).
const collectKiB = 4 << 10

// Hashing is the process-wide budget of password hashing memory. It is
// safe for concurrent use.
type Hashing struct {
	total   int64
	queue   int64
	sem     *semaphore.Weighted // KiB of memory; FIFO
	waiting atomic.Int64        // callers blocked in Acquire

	acquired    atomic.Uint64 // successful Acquire calls
	acquiredKiB atomic.Uint64 // their kib, as asked
}

// NewHashing returns a budget of memoryKiB KiB with at most queue callers
// waiting. Zero values mean the defaults.
func NewHashing(memoryKiB int64, queue int) *Hashing {
	if memoryKiB <= 0 {
		memoryKiB = DefaultHashingMemoryKiB
	}
	if queue <= 0 {
		queue = DefaultHashingQueue
	}
	return &Hashing{total: memoryKiB, queue: int64(queue), sem: semaphore.NewWeighted(memoryKiB)}
}

// MemoryKiB returns the budget's size.
func (h *Hashing) MemoryKiB() int64 { return h.total }

// Waiting returns how many callers wait for memory.
func (h *Hashing) Waiting() int { return int(h.waiting.Load()) }

// Acquired returns how many hashes took memory from the budget since it
// was made, and the KiB they asked for in all: what the password checks
// cost, counted rather than timed (an unknown username must cost what a
// wrong password does, whatever the machine's load).
func (h *Hashing) Acquired() (n, kib uint64) {
	return h.acquired.Load(), h.acquiredKiB.Load()
}

// Acquire takes kib KiB of the budget (all of it when kib is larger: such
// a hash runs alone) and returns the function that gives it back. It
// waits while the memory is in use; it fails with ErrBusy when the queue
// is full, and with ctx's error when ctx ends first, or has already
// ended: a caller that has gone never hashes.
func (h *Hashing) Acquire(ctx context.Context, kib uint64) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := int64(min(kib, uint64(h.total)))
	w = max(w, 1)
	if !h.sem.TryAcquire(w) {
		if h.waiting.Add(1) > h.queue {
			h.waiting.Add(-1)
			return nil, ErrBusy
		}
		err := h.sem.Acquire(ctx, w)
		h.waiting.Add(-1)
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil { // Acquire may succeed on an ended ctx
		h.sem.Release(w)
		return nil, err
	}
	h.acquired.Add(1)
	h.acquiredKiB.Add(kib)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			if kib >= collectKiB {
				runtime.GC() // before the next hash may allocate
			}
			h.sem.Release(w)
		}
	}, nil
}
