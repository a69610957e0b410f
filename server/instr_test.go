package server

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
)

// BenchmarkTokenInstructions is the load benchmark's token request in
// process: client_credentials, client_secret_basic with a sha256: secret,
// the scope bench.es256 of the resource api-es256 signed with ES256,
// through the whole handler (middleware, mux, token endpoint), tracing
// off. The server has one ES256 key only, so its set-up does the same
// work in every run (no RSA prime search), and the request and writer are
// reused: run under valgrind at two -test.benchtime counts, the
// difference of the instruction counts divided by the difference of the
// counts is the instructions per token (docs/benchmarks.md, "Tracing
// off"; bench/instructions.sh).
//
// It uses only what the server and its tests had before tracing (6782974:
// reusableBody and discardWriter of bench_test.go among them), so the same
// file, copied into any commit since, measures it.
func BenchmarkTokenInstructions(b *testing.B) {
	opts := key.DefaultOptions()
	opts.ProtectKeys = false
	opts.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.ES256}}
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: memstore.New()})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{
		Issuer: "https://login.example.com",
		Keys:   m,
		Clients: []Client{{
			ID:                  "bench",
			Secrets:             []*clientauth.Secret{secret(b, clientauth.HashSHA256("bench-secret"))},
			GrantTypes:          []string{"client_credentials"},
			Scopes:              []string{"bench.es256"},
			AccessTokenLifetime: time.Hour,
		}},
		APIResources: []APIResource{{Name: "api-es256", Scopes: []string{"bench.es256"}, AllowedSigningAlgorithms: []key.Algorithm{key.ES256}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	const form = "grant_type=client_credentials&scope=bench.es256"
	body := &reusableBody{}
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodPost, "/connect/token", nil)
	r.Body = body
	r.ContentLength = int64(len(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("bench:bench-secret")))
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(form)
		clear(w.h)
		w.status = 0
		s.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
