// Command goapi is a Go API that accepts Signet's access tokens: RFC 9068
// JWTs (typ at+jwt) whose signature, issuer, audience, expiry and scopes
// it checks itself, with the JWKS cached as docs/key-management.md asks
// of relying parties (keysets.go). docs/connect/go-api.md explains it.
//
// Configuration, from the environment:
//
//	SIGNET_ISSUER  the issuer, e.g. https://login.example.com
//	API_AUDIENCE   this API's apiResources[].name in Signet, e.g. orders
//	LISTEN         the address to listen on, e.g. 127.0.0.1:8000
//
// Routes: GET /orders needs the scope orders.read, POST /orders needs
// orders.write; both answer with who called as JSON.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	issuer, audience, listen := os.Getenv("SIGNET_ISSUER"), os.Getenv("API_AUDIENCE"), os.Getenv("LISTEN")
	if issuer == "" || audience == "" || listen == "" {
		log.Fatal("set SIGNET_ISSUER, API_AUDIENCE (e.g. orders) and LISTEN (e.g. 127.0.0.1:8000)")
	}
	v, err := NewVerifier(issuer, audience, http.DefaultClient)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require("orders.read", http.HandlerFunc(whoCalled)))
	mux.Handle("POST /orders", v.Require("orders.write", http.HandlerFunc(whoCalled)))
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on %s", listen)
	log.Fatal(srv.ListenAndServe())
}

func whoCalled(w http.ResponseWriter, r *http.Request) {
	c := ClaimsFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sub": c.Subject, "client_id": c.ClientID, "scope": c.Scope})
}
