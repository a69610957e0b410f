package server

import (
	"maps"
	"sync"
	"sync/atomic"
)

// cowMap is a small map read on every request and written rarely: a read
// is an atomic load and a map lookup, without a lock; a write copies the
// map. The zero value is ready; it is safe for concurrent use.
type cowMap[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V] // replaced, never modified
	mu sync.Mutex              // serializes stores
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// store adds v under k unless k is there already or the map holds limit
// entries (limit 0: no limit).
func (c *cowMap[K, V]) store(k K, v V, limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if _, ok := old[k]; ok || limit > 0 && len(old) >= limit {
		return
	}
	m := make(map[K]V, len(old)+1)
	maps.Copy(m, old)
	m[k] = v
	c.m.Store(&m)
}

// len returns the number of entries.
func (c *cowMap[K, V]) len() int {
	if m := c.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}
