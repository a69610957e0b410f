package dpopbinding

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
)

var now = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func newBinding(t *testing.T, store grant.Store, secret []byte) *Binding {
	t.Helper()
	b, err := New(Config{Replay: NewStoreReplay(store, clock), NonceSecret: secret, Now: clock,
		TokenURI: "https://id.example.com/connect/token", UserinfoURI: "https://id.example.com/connect/userinfo"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func prover(t *testing.T) *dpop.Prover {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p, err := dpop.NewProver(k, "ES256", clock)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStoreReplay: a proof recorded through one Binding is refused by
// another sharing the store (two instances), and an expired one is not
// recorded.
func TestStoreReplay(t *testing.T) {
	store := memstore.New()
	one, two := newBinding(t, store, nil), newBinding(t, store, nil)
	p := prover(t)
	proof, _ := p.Proof("POST", "https://id.example.com/connect/token", dpop.ProofOptions{})
	r := httptest.NewRequest("POST", "/connect/token", nil)
	r.Header.Set("DPoP", proof)
	jkt, e := one.Token(context.Background(), r, Client{ID: "app"})
	if e != nil || jkt != p.Thumbprint() {
		t.Fatalf("first use: %q %v", jkt, e)
	}
	if _, e := two.Token(context.Background(), r, Client{ID: "app"}); e == nil || e.Code != "invalid_dpop_proof" || !strings.Contains(e.Desc, "used before") {
		t.Fatalf("replay at the other instance: %v", e)
	}
	// A proof that expired between verification and recording.
	err := NewStoreReplay(store, clock).UseOnce(context.Background(), "x", now)
	if !errors.Is(err, dpop.ErrIssuedAt) {
		t.Fatalf("expired: %v", err)
	}
}

// TestCheckPushed: another endpoint's URL is the htu (PAR), and a client
// that requires DPoP is refused without a proof there too.
func TestCheckPushed(t *testing.T) {
	b := newBinding(t, memstore.New(), nil)
	p := prover(t)
	const par = "https://id.example.com/connect/par"
	proof, _ := p.Proof("POST", par, dpop.ProofOptions{})
	r := httptest.NewRequest("POST", "/connect/par", nil)
	r.Header.Set("DPoP", proof)
	if _, e := b.Token(context.Background(), r, Client{ID: "app"}); e == nil {
		t.Fatal("a PAR proof accepted at the token endpoint")
	}
	if jkt, e := b.Check(context.Background(), r, par, Client{ID: "app"}); e != nil || jkt != p.Thumbprint() {
		t.Fatalf("PAR proof: %q %v", jkt, e)
	}
	r.Header.Del("DPoP")
	if jkt, e := b.Check(context.Background(), r, par, Client{ID: "app"}); e != nil || jkt != "" {
		t.Fatalf("no proof, not required: %q %v", jkt, e)
	}
	if _, e := b.Check(context.Background(), r, par, Client{ID: "app", Required: true}); e == nil || e.Code != "invalid_dpop_proof" {
		t.Fatalf("no proof, required: %v", e)
	}
}

// TestNonceAcrossInstances: two instances with one nonce secret accept
// each other's nonces; the answer to a proof without one carries the
// nonce to use.
func TestNonceAcrossInstances(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	store := memstore.New()
	one, two := newBinding(t, store, secret), newBinding(t, store, secret)
	p := prover(t)
	const tok = "https://id.example.com/connect/token"
	proof, _ := p.Proof("POST", tok, dpop.ProofOptions{})
	r := httptest.NewRequest("POST", "/connect/token", nil)
	r.Header.Set("DPoP", proof)
	_, e := one.Token(context.Background(), r, Client{ID: "app"})
	if e == nil || e.Code != "use_dpop_nonce" || e.DPoPNonce == "" {
		t.Fatalf("no nonce: %v", e)
	}
	proof, _ = p.Proof("POST", tok, dpop.ProofOptions{Nonce: e.DPoPNonce})
	r.Header.Set("DPoP", proof)
	if _, e := two.Token(context.Background(), r, Client{ID: "app"}); e != nil {
		t.Fatalf("the other instance refused the nonce: %v", e)
	}
	other := newBinding(t, store, []byte(strings.Repeat("o", 32)))
	proof, _ = p.Proof("POST", tok, dpop.ProofOptions{Nonce: e.DPoPNonce})
	r.Header.Set("DPoP", proof)
	if _, e := other.Token(context.Background(), r, Client{ID: "app"}); e == nil || e.Code != "use_dpop_nonce" {
		t.Fatalf("another secret's instance: %v", e)
	}
}

// TestClientAlgorithms: a client restricted to some algorithms (FAPI 2.0)
// has proofs of others refused, without their jti recorded.
func TestClientAlgorithms(t *testing.T) {
	b := newBinding(t, memstore.New(), nil)
	p := prover(t) // ES256
	proof, _ := p.Proof("POST", "https://id.example.com/connect/token", dpop.ProofOptions{})
	r := httptest.NewRequest("POST", "/connect/token", nil)
	r.Header.Set("DPoP", proof)
	if _, e := b.Token(context.Background(), r, Client{ID: "fapi", Algorithms: []string{"PS256", "EdDSA"}}); e == nil || e.Code != "invalid_dpop_proof" {
		t.Fatalf("ES256 for a PS256/EdDSA client: %v", e)
	}
	if _, e := b.Token(context.Background(), r, Client{ID: "fapi", Algorithms: []string{"PS256", "ES256", "EdDSA"}}); e != nil {
		t.Fatalf("ES256 for a FAPI 2.0 client: %v", e)
	}
}
