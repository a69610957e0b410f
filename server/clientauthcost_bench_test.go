package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/sqlitestore"
)

// BenchmarkTokenClientAuthSQLite is the load benchmark's three
// client_credentials modes (issue 14 point 7) through the handler, one
// token at a time, with the replay records in a SQLite grant store (the
// default): a sha256: secret, a private_key_jwt assertion (ES256) and a
// DPoP proof (ES256) beside the secret. The assertions and proofs are
// made inside the loop, so make-assertion and make-proof measure that
// alone: under valgrind (cachegrind, GOMAXPROCS=1, difference of two
// -benchtime counts), a mode's instructions per token less its maker's
// are the server's.
func BenchmarkTokenClientAuthSQLite(b *testing.B) {
	k := newKeyedClient(b, "keyed")
	keys := newFakeKeys(b)
	keys.order = []key.Algorithm{key.ES256}
	clients, resources := testClients(b)
	st, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "signet.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cfg := Config{Issuer: "https://login.example.com", Keys: keys, Clients: clients, APIResources: resources,
		Grants: st, Now: func() time.Time { return testNow }}
	withKeyedClient(b, k)(&cfg)
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	prover, err := dpop.NewProver(ec, "ES256", func() time.Time { return testNow })
	if err != nil {
		b.Fatal(err)
	}
	const (
		secretForm = "grant_type=client_credentials&scope=reports.read"
		billing    = "Basic YmlsbGluZzpiaWxsaW5nLXNlY3JldA==" // billing:billing-secret (sha256:)
		poster     = "Basic cG9zdGVyOnBvc3Rlci1zZWNyZXQ="     // poster:poster-secret
	)
	assertion := func() string {
		return assertionForm(k.assertion(b, "https://login.example.com", testNow), "grant_type", "client_credentials", "scope", "reports.read").Encode()
	}
	proof := func() string {
		p, err := prover.Proof("POST", "https://login.example.com/connect/token", dpop.ProofOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	serve := func(body, authorization, dpopProof string) {
		r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		if dpopProof != "" {
			r.Header.Set("DPoP", dpopProof)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	modes := []struct {
		name string
		run  func()
	}{
		{"secret", func() { serve(secretForm, billing, "") }},
		{"private_key_jwt", func() { serve(assertion(), "", "") }},
		{"dpop", func() { serve("grant_type=client_credentials", poster, proof()) }},
		{"make-assertion", func() { assertion() }},
		{"make-proof", func() { proof() }},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.run()
			}
		})
	}
}
