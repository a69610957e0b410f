// Command embedded-keys is a Go API that manages its own signing keys with
// Signet as a library: it publishes a JWKS that rotates on schedule and
// signs its own JWTs. It stores the keys in SQLite, sealed with a secret.
//
//	SIGNET_KEY_SECRET=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d =) go run ./examples/embedded-keys -listen 127.0.0.1:8080
//	curl http://127.0.0.1:8080/.well-known/jwks.json
//	curl 'http://127.0.0.1:8080/token?sub=alice'
//
// With -config signet.yaml it takes the store, protection and key options
// from a Signet configuration file instead (signet.OpenManager).
//
// It prints "listening on http://ADDR" once it serves.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/sqlitestore"
	"github.com/signet-id/signet/seal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "embedded-keys:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8080", "the address to serve on")
	data := flag.String("data", "./embedded-keys-data", "the directory of the SQLite key store (without -config)")
	cfgPath := flag.String("config", "", "a Signet YAML configuration to take the store and key options from")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	m, maxAge, closeKeys, err := openKeys(ctx, *cfgPath, *data, log)
	if err != nil {
		return err
	}
	defer closeKeys()

	// The key manager's loop: rotation, retirement, store polling.
	var wg sync.WaitGroup
	defer wg.Wait()
	mctx, stopManager := context.WithCancel(context.Background())
	defer stopManager()
	wg.Go(func() { _ = m.Run(mctx) })

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String()
	jwks, err := m.JWKSHandler(maxAge) // Cache-Control bounded by propagationTime/2, ETag, 304, HEAD
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", jwks)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		doc := struct {
			Issuer string `json:"issuer"`
			keymanager.Discovery
		}{issuer, m.DiscoveryFields(issuer + "/.well-known/jwks.json")}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := issue(m, issuer, r.URL.Query().Get("sub"), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		fmt.Fprint(w, tok)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	wg.Go(func() { _ = hs.Serve(ln) })
	fmt.Printf("listening on %s\n", issuer)

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	stopManager()
	return err
}

// openKeys returns a started key manager, the JWKS max-age to serve and
// what closes it: from a Signet configuration file, or built by hand.
func openKeys(ctx context.Context, cfgPath, data string, log *slog.Logger) (*keymanager.Manager, time.Duration, func() error, error) {
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath, os.LookupEnv)
		if err != nil {
			return nil, 0, nil, err
		}
		keys, err := signet.OpenManager(ctx, cfg, log)
		if err != nil {
			return nil, 0, nil, err
		}
		return keys.Manager, cfg.JWKSMaxAge, keys.Close, nil
	}

	secret := os.Getenv("SIGNET_KEY_SECRET")
	if len(secret) < seal.MinSecretLength {
		return nil, 0, nil, fmt.Errorf("set SIGNET_KEY_SECRET to at least %d random bytes, e.g. $(openssl rand -base64 32 | tr '+/' '-_' | tr -d =)", seal.MinSecretLength)
	}
	sealer, err := seal.New([][]byte{[]byte(secret)})
	if err != nil {
		return nil, 0, nil, err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, 0, nil, err
	}
	store, err := sqlitestore.Open(ctx, filepath.Join(data, "keys.db"))
	if err != nil {
		return nil, 0, nil, err
	}
	opts := key.DefaultTimingOptions() // 90-day rotation, 14-day propagation and retention
	opts.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.ES256}}
	opts.LongestTokenLifetime, opts.LongestTokenSource = tokenLifetime, "tokenLifetime"
	if err := opts.Validate(); err != nil { // the timing rules of `signet config check`
		store.Close()
		return nil, 0, nil, err
	}
	m, err := keymanager.New(keymanager.Config{Options: opts.Options, Store: store, Sealer: sealer, Logger: log})
	if err == nil {
		err = m.Start(ctx)
	}
	if err != nil {
		store.Close()
		return nil, 0, nil, errors.Join(errors.New("start the key manager"), err)
	}
	return m, opts.JWKSMaxAge, store.Close, nil
}

// tokenLifetime is the lifetime of the tokens this API signs.
const tokenLifetime = 10 * time.Minute

// issue signs a JWT for sub with the current signing key.
func issue(m *keymanager.Manager, issuer, sub string, now time.Time) (string, error) {
	if sub == "" {
		sub = "anonymous"
	}
	k, err := m.SigningKey(nil)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(map[string]any{
		"iss": issuer, "sub": sub, "aud": issuer,
		"iat": now.Unix(), "exp": now.Add(tokenLifetime).Unix(),
	})
	if err != nil {
		return "", err
	}
	return k.Sign("JWT", payload)
}
