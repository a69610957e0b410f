package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server"
)

// A token server over a key manager: discovery, the JWKS and the token
// endpoint for the configured clients. *Server is the http.Handler of an
// http.Server.
func ExampleNew() {
	opts := key.DefaultOptions()
	opts.ProtectKeys = false // an in-memory store: nothing at rest
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: memstore.New()})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Issuer: "https://login.example.com", Keys: m})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", server.PathJWKS, nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	// Output: 200 public, max-age=0
}
