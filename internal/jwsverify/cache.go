package jwsverify

import "sync"

// Cache remembers a value per exact header segment (or other key), at
// most entries of them, none for a key longer than maxKey bytes: when
// full, an arbitrary entry makes room. Safe for concurrent use.
type Cache[V any] struct {
	mu      sync.Mutex // guards m
	m       map[string]V
	entries int
	maxKey  int
}

// NewCache returns an empty Cache of at most entries keys of at most
// maxKey bytes.
func NewCache[V any](entries, maxKey int) *Cache[V] {
	return &Cache[V]{m: make(map[string]V), entries: entries, maxKey: maxKey}
}

// Get returns the value of key, if any.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

// Put remembers v for key, unless key is too long.
func (c *Cache[V]) Put(key string, v V) {
	if len(key) > c.maxKey {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.entries {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = v
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
