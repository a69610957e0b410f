package keymanager_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/seal"
)

// A key manager over an in-memory store: it creates the first key at
// Start; Run (in a goroutine the program owns) rotates it on schedule.
func Example() {
	ctx := context.Background()
	sealer, err := seal.New([][]byte{[]byte("a secret of at least thirty-two bytes")})
	if err != nil {
		panic(err)
	}
	opts := key.DefaultOptions()
	opts.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.ES256}}
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: memstore.New(), Sealer: sealer})
	if err != nil {
		panic(err)
	}
	if err := m.Start(ctx); err != nil {
		panic(err)
	}
	// go m.Run(ctx)
	k, err := m.SigningKey(nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(k.Algorithm(), m.Ready())
	// Output: ES256 <nil>
}

func started() *keymanager.Manager {
	sealer, _ := seal.New([][]byte{[]byte("a secret of at least thirty-two bytes")})
	m, err := keymanager.New(keymanager.Config{Options: key.DefaultOptions(), Store: memstore.New(), Sealer: sealer})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	return m
}

// Serve the JWKS with the bounded max-age (zero: the default, here 1h),
// a strong ETag and 304 for a client that has it already.
func ExampleManager_JWKSHandler() {
	m := started()
	h, err := m.JWKSHandler(0)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", h)

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))

	r := httptest.NewRequest("GET", "/.well-known/jwks.json", nil)
	r.Header.Set("If-None-Match", w.Header().Get("ETag"))
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// 200 public, max-age=3600
	// 304
}

// The fields of a discovery document that key management decides.
func ExampleManager_DiscoveryFields() {
	d := started().DiscoveryFields("https://api.example.com/.well-known/jwks.json")
	fmt.Println(d.JWKSURI, d.IDTokenSigningAlgValuesSupported)
	// Output: https://api.example.com/.well-known/jwks.json [RS256]
}
