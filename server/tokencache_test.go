package server

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestVerifiedTokenCache: an access token introspected again is answered
// from the verified token cache (an entry planted for its exact bytes is
// what introspection then reports), an altered token is not (its hash is
// another: verified and refused), and a cached token still expires and
// can still be revoked (TestIntrospection revokes a token it introspected).
func TestVerifiedTokenCache(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	code := e.callback(b.authorize(spaRequest("scope", "openid offline_access reports.read")), spaRedirect).Get("code")
	tr := e.tokens(e.exchange(code, verifierForSPA))
	cache := e.s.oidc.verified
	if m := e.introspect(tr.AccessToken); m["active"] != true || cache.len() != 1 {
		t.Fatalf("first introspection: %v, %d cached", m, cache.len())
	}
	if m := e.introspect(tr.AccessToken); m["active"] != true || cache.len() != 1 {
		t.Fatalf("second introspection: %v, %d cached", m, cache.len())
	}

	// The second answer came from the cache: plant claims for the
	// token's exact bytes and they are what introspection reports.
	sum := sha256.Sum256([]byte(tr.AccessToken))
	cache.mu.Lock()
	entry := cache.m[sum]
	planted := *entry.claims
	planted.Sub = "planted-subject"
	entry.claims = &planted
	cache.m[sum] = entry
	cache.mu.Unlock()
	if m := e.introspect(tr.AccessToken); m["active"] != true || m["sub"] != "planted-subject" {
		t.Fatalf("a cached token was verified again: %v", m)
	}
	cache.mu.Lock()
	entry.claims = &planted
	planted.Sub = aliceSub
	cache.mu.Unlock()

	// Another signature (one character changed) is another token.
	last := tr.AccessToken[len(tr.AccessToken)-2]
	other := byte('A')
	if last == 'A' {
		other = 'B'
	}
	altered := tr.AccessToken[:len(tr.AccessToken)-2] + string(other) + tr.AccessToken[len(tr.AccessToken)-1:]
	if m := e.introspect(altered); m["active"] != false || cache.len() != 1 {
		t.Fatalf("altered token: %v, %d cached", m, cache.len())
	}

	// Revocation and expiry are checked at every request.
	e.clock.Add(11 * time.Minute)
	if m := e.introspect(tr.AccessToken); m["active"] != false {
		t.Fatalf("expired cached token: %v", m)
	}
}

// TestVerifiedTokenCacheKeys: a hit counts only while the key that
// verified the token is in the JWKS with the same algorithm.
func TestVerifiedTokenCacheKeys(t *testing.T) {
	c := newVerifiedTokens()
	sum := sha256.Sum256([]byte("a token"))
	c.put(sum, verifiedToken{kid: "k1", alg: "ES256", claims: &userAccessClaims{Sub: "s"}})
	for name, keys := range map[string]map[string]jose.JSONWebKey{
		"key gone":        {"k2": {KeyID: "k2", Algorithm: "ES256"}},
		"other algorithm": {"k1": {KeyID: "k1", Algorithm: "RS256"}},
		"no keys":         {},
	} {
		if _, ok := c.get(sum, keys); ok {
			t.Errorf("%s: hit", name)
		}
	}
	if got, ok := c.get(sum, map[string]jose.JSONWebKey{"k1": {KeyID: "k1", Algorithm: "ES256"}}); !ok || got.Sub != "s" {
		t.Errorf("same key: %v %v", got, ok)
	}
	if _, ok := c.get(sha256.Sum256([]byte("another token")), map[string]jose.JSONWebKey{"k1": {KeyID: "k1", Algorithm: "ES256"}}); ok {
		t.Error("another token hit")
	}
}

// TestVerifiedTokenCacheBounded: the cache never holds more than
// verifiedTokenEntries tokens.
func TestVerifiedTokenCacheBounded(t *testing.T) {
	c := newVerifiedTokens()
	for i := range verifiedTokenEntries + 100 {
		c.put(sha256.Sum256([]byte(fmt.Sprint("token", i))), verifiedToken{kid: "k", alg: "ES256", claims: &userAccessClaims{}})
	}
	if n := c.len(); n != verifiedTokenEntries {
		t.Fatalf("%d entries, want %d", n, verifiedTokenEntries)
	}
}
