package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// jwksServer serves a JWKS that tests change, counting fetches.
type jwksServer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	cc      string
	status  int
	fetches int
	srv     *httptest.Server
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	j := &jwksServer{keys: keys, cc: "public, max-age=60", status: 200}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.fetches++
		w.Header().Set("Cache-Control", j.cc)
		w.WriteHeader(j.status)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: j.keys})
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) set(f func(j *jwksServer)) { j.mu.Lock(); f(j); j.mu.Unlock() }
func (j *jwksServer) count() int                { j.mu.Lock(); defer j.mu.Unlock(); return j.fetches }

func newKey(t *testing.T, kid string) (*ecdsa.PrivateKey, jose.JSONWebKey) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time              { return c.t }
func (c *clock) add(d time.Duration)         { c.t = c.t.Add(d) }
func newClock() *clock                       { return &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (s *KeySet) withClock(c *clock) *KeySet { s.now = c.now; return s }

func TestKeySetCaching(t *testing.T) {
	ctx := context.Background()
	_, k1 := newKey(t, "k1")
	_, k2 := newKey(t, "k2")
	j := newJWKSServer(t, k1)
	c := newClock()
	s := NewKeySet(j.srv.URL, j.srv.Client()).withClock(c)

	want := func(kid string, fetches int, wantErr error) {
		t.Helper()
		_, err := s.Key(ctx, kid)
		if !errors.Is(err, wantErr) {
			t.Fatalf("Key(%s) = %v, want %v", kid, err, wantErr)
		}
		if n := j.count(); n != fetches {
			t.Fatalf("after Key(%s): %d fetches, want %d", kid, n, fetches)
		}
	}
	want("k1", 1, nil)
	want("k1", 1, nil) // cached
	// A made-up kid right after a fetch does not fetch again.
	for range 50 {
		want("nope", 1, ErrUnknownKey)
	}
	// A rotated-in key: fetched at once once MinRefetch has passed.
	j.set(func(j *jwksServer) { j.keys = append(j.keys, k2) })
	c.add(10 * time.Second)
	want("k2", 2, nil)
	for range 50 {
		want("nope", 2, ErrUnknownKey)
	}
	// A revoked key is accepted until max-age (60 s) from the last fetch
	// runs out, then refused.
	j.set(func(j *jwksServer) { j.keys = []jose.JSONWebKey{k2} })
	c.add(49 * time.Second)
	want("k1", 2, nil)
	c.add(11 * time.Second)
	want("k1", 3, ErrUnknownKey)
	want("k2", 3, nil)

	// A failed fetch keeps the keys the set has.
	j.set(func(j *jwksServer) { j.status = 503 })
	c.add(61 * time.Second)
	want("k2", 4, nil)
}

func TestKeySetMaxAgeCapped(t *testing.T) {
	ctx := context.Background()
	_, k1 := newKey(t, "k1")
	j := newJWKSServer(t, k1)
	j.cc = "public, max-age=86400"
	c := newClock()
	s := NewKeySet(j.srv.URL, j.srv.Client()).withClock(c)
	s.Key(ctx, "k1")
	c.add(59 * time.Minute)
	s.Key(ctx, "k1")
	if n := j.count(); n != 1 {
		t.Fatalf("%d fetches within MaxAge, want 1", n)
	}
	c.add(2 * time.Minute)
	s.Key(ctx, "k1")
	if n := j.count(); n != 2 {
		t.Fatalf("%d fetches after MaxAge (1h) although max-age says a day, want 2", n)
	}
}

func TestVerifier(t *testing.T) {
	priv, pub := newKey(t, "k1")
	j := newJWKSServer(t, pub)
	c := newClock()
	v := &Verifier{issuer: "https://login.example.com", audience: "orders", keys: NewKeySet(j.srv.URL, j.srv.Client()).withClock(c), leeway: time.Minute, now: c.now}
	sign := func(typ string, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
		t.Helper()
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := func() map[string]any {
		return map[string]any{"iss": "https://login.example.com", "aud": "orders", "sub": "billing", "client_id": "billing",
			"scope": "orders.read", "exp": c.t.Add(time.Hour).Unix(), "iat": c.t.Unix()}
	}
	cl, err := v.Verify(context.Background(), sign("at+jwt", jose.ES256, priv, good()))
	if err != nil || cl.Subject != "billing" || !cl.HasScope("orders.read") || cl.HasScope("orders.write") {
		t.Fatalf("a good token: %+v, %v", cl, err)
	}
	other, _ := newKey(t, "k1")
	for name, tok := range map[string]string{
		"an ID token (typ JWT)": sign("JWT", jose.ES256, priv, good()),
		"another audience":      sign("at+jwt", jose.ES256, priv, func() map[string]any { m := good(); m["aud"] = "ledger"; return m }()),
		"another issuer":        sign("at+jwt", jose.ES256, priv, func() map[string]any { m := good(); m["iss"] = "https://evil.example.com"; return m }()),
		"expired":               sign("at+jwt", jose.ES256, priv, func() map[string]any { m := good(); m["exp"] = c.t.Add(-2 * time.Minute).Unix(); return m }()),
		"no exp":                sign("at+jwt", jose.ES256, priv, func() map[string]any { m := good(); delete(m, "exp"); return m }()),
		"HMAC":                  sign("at+jwt", jose.HS256, []byte(strings.Repeat("k", 32)), good()),
		"another key, same kid": sign("at+jwt", jose.ES256, other, good()),
		"DPoP-bound (cnf)":      sign("at+jwt", jose.ES256, priv, func() map[string]any { m := good(); m["cnf"] = map[string]string{"jkt": "x"}; return m }()),
	} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}
