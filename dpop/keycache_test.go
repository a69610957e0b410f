package dpop

import (
	"errors"
	"fmt"
	"testing"
)

// A key that verified a proof is remembered by its exact jwk bytes: the
// next proof of that key hits the cache and gets the same thumbprint;
// another key with the same kid is another entry with its own thumbprint;
// a jwk that differs in one coordinate is not a hit and is refused.
func TestKeyCacheKeyedByJWK(t *testing.T) {
	v := newVerifier(t, Config{})
	ka, kb := mustEC(ellipticP256()), mustEC(ellipticP256())
	a := testKey{"ES256", ka, ecJWK(&ka.PublicKey, "P-256", 32)}
	b := testKey{"ES256", kb, ecJWK(&kb.PublicKey, "P-256", 32)}
	a.jwk["kid"], b.jwk["kid"] = "same", "same"

	verify := func(k testKey, jti string) (*Proof, error) {
		c := baseClaims()
		c["jti"] = jti
		return v.Verify(k.sign(k.header(), c), tokenReq)
	}
	p1, err := verify(a, "1")
	if err != nil {
		t.Fatal(err)
	}
	if v.keys.len() != 1 {
		t.Fatalf("%d cached keys after one proof, want 1", v.keys.len())
	}
	p2, err := verify(a, "2")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Thumbprint(&p2.Key)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Thumbprint != want || p2.Thumbprint != want || v.keys.len() != 1 {
		t.Fatalf("thumbprints %s, %s (cached keys %d); want %s twice and one key", p1.Thumbprint, p2.Thumbprint, v.keys.len(), want)
	}

	pb, err := verify(b, "3")
	if err != nil {
		t.Fatal(err)
	}
	wantB, _ := Thumbprint(&pb.Key)
	if pb.Thumbprint != wantB || pb.Thumbprint == want || v.keys.len() != 2 {
		t.Fatalf("another key with the same kid: thumbprint %s (its own %s, the first key's %s), %d cached keys", pb.Thumbprint, wantB, want, v.keys.len())
	}

	// a's jwk with b's y: not a's entry, and not a key on the curve.
	forged := a
	forged.jwk = copyMap(a.jwk)
	forged.jwk["y"] = b.jwk["y"]
	if _, err := verify(forged, "4"); err == nil {
		t.Fatal("a jwk with another key's y was accepted")
	}
	// b's jwk, signed by a: the cached entry of b does not spare the
	// signature.
	stolen := a
	stolen.jwk = b.jwk
	if _, err := verify(stolen, "5"); !errors.Is(err, ErrSignature) {
		t.Fatalf("a proof under a cached jwk signed by another key: %v, want ErrSignature", err)
	}
	if v.keys.len() != 2 {
		t.Fatalf("%d cached keys after refused proofs, want 2", v.keys.len())
	}
}

// A cached jwk is checked again for another alg: the cache is per (jwk,
// alg), so an EC key cached for ES256 is refused under RS256.
func TestKeyCachePerAlgorithm(t *testing.T) {
	v := newVerifier(t, Config{Algorithms: []string{"ES256", "RS256"}})
	k := testKeys(t)["ES256"]
	if _, err := v.Verify(k.sign(k.header(), baseClaims()), tokenReq); err != nil {
		t.Fatal(err)
	}
	h := k.header()
	h["alg"] = "RS256"
	c := baseClaims()
	c["jti"] = "other"
	if _, err := v.Verify(k.sign(h, c), tokenReq); err == nil {
		t.Fatal("an EC key cached for ES256 was accepted for RS256")
	}
}

// The cache holds at most keyCacheEntries keys, and no jwk longer than
// keyCacheMaxJWK.
func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache()
	for i := range keyCacheEntries + 100 {
		c.put([]byte(fmt.Sprint(`{"k":`, i, `}`)), cachedKey{alg: "ES256", thumbprint: fmt.Sprint(i)})
		if n := c.len(); n > keyCacheEntries {
			t.Fatalf("%d entries after %d puts, bound %d", n, i+1, keyCacheEntries)
		}
	}
	if e, ok := c.get([]byte(fmt.Sprint(`{"k":`, keyCacheEntries+99, `}`)), "ES256"); !ok || e.thumbprint != fmt.Sprint(keyCacheEntries+99) {
		t.Fatalf("the last key put is not cached: %v %v", e, ok)
	}
	long := make([]byte, keyCacheMaxJWK+1)
	d := newKeyCache()
	d.put(long, cachedKey{alg: "ES256"})
	if d.len() != 0 {
		t.Fatal("a jwk longer than keyCacheMaxJWK was cached")
	}
}
