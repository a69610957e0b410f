package dpop

import "sync"

// Bounds of a Verifier's key cache.
const (
	// keyCacheEntries is the most proof keys a Verifier remembers.
	keyCacheEntries = 512
	// keyCacheMaxJWK is the longest jwk header remembered, in bytes (an
	// RSA-8192 public JWK is about 1.4 KiB): at most 1 MiB in all.
	keyCacheMaxJWK = 2 << 10
)

// keyCache remembers, for the exact bytes of a proof's jwk header whose
// proof verified, the key's thumbprint: a client signs many proofs with
// one key, whose checks (no private members, a key of the alg's type)
// and RFC 7638 thumbprint need not be redone for each. It is keyed by
// the whole jwk, never by a kid or a thumbprint, so another key (even
// with the same kid) never hits another's entry; the key itself is still
// parsed by go-jose from the same bytes and verifies each signature.
// Bounded: when full, an arbitrary entry makes room.
type keyCache struct {
	mu sync.Mutex // guards m
	m  map[string]cachedKey
}

// cachedKey is what is known of a jwk that verified a proof.
type cachedKey struct {
	alg        string // the proof's alg the key was checked for
	thumbprint string
}

func newKeyCache() *keyCache { return &keyCache{m: make(map[string]cachedKey)} }

// get returns the entry of jwk for alg, if any.
func (c *keyCache) get(jwk []byte, alg string) (cachedKey, bool) {
	c.mu.Lock()
	e, ok := c.m[string(jwk)]
	c.mu.Unlock()
	return e, ok && e.alg == alg
}

// put remembers jwk's entry, unless jwk is too long.
func (c *keyCache) put(jwk []byte, e cachedKey) {
	if len(jwk) > keyCacheMaxJWK {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[string(jwk)]; !ok && len(c.m) >= keyCacheEntries {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[string(jwk)] = e
}

// len returns the number of entries (tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
