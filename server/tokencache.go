package server

import (
	"crypto/sha256"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of the verified access token cache.
const (
	// verifiedTokenEntries is the most access tokens remembered: about
	// 400 bytes each, under 2 MiB in all.
	verifiedTokenEntries = 4096
)

// verifiedTokens remembers the claims of access tokens whose signature
// verified, by the SHA-256 of the whole token: an API introspects, and a
// client calls userinfo with, the same token many times over its
// lifetime, and each ES256 verification costs more than the rest of the
// request. Only a token that verified is remembered, so a request with a
// token that was never verified (a forged or altered one: its hash is
// another) verifies it as before, and filling the cache takes tokens
// Signet issued. A hit counts only while the key that verified it is in
// the current JWKS with the same algorithm (a key revoked or deleted
// stops its tokens at once), and the caller checks the lifetime and
// revocation at every request, as for a token it just verified.
// Bounded: when full, an arbitrary entry makes room.
type verifiedTokens struct {
	mu sync.Mutex // guards m
	m  map[[sha256.Size]byte]verifiedToken
}

// verifiedToken is what is known of a token that verified.
type verifiedToken struct {
	kid    string
	alg    string
	claims *userAccessClaims // read-only once remembered
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{m: make(map[[sha256.Size]byte]verifiedToken)}
}

// get returns the claims of the token whose hash is sum when the key
// that verified it is still in keys with the same algorithm.
func (c *verifiedTokens) get(sum [sha256.Size]byte, keys map[string]jose.JSONWebKey) (*userAccessClaims, bool) {
	c.mu.Lock()
	e, ok := c.m[sum]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	if k, ok := keys[e.kid]; !ok || k.Algorithm != e.alg {
		return nil, false
	}
	return e.claims, true
}

// put remembers a token that verified.
func (c *verifiedTokens) put(sum [sha256.Size]byte, e verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[sum]; !ok && len(c.m) >= verifiedTokenEntries {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[sum] = e
}

// len returns the number of entries (tests).
func (c *verifiedTokens) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
