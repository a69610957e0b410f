package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/filestore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/signer/backend"
)

// countingStore is the file store, counting every call the key manager
// makes to it.
type countingStore struct {
	s     *filestore.Store
	calls atomic.Int64
}

func (c *countingStore) Keys(ctx context.Context) ([]key.Record, error) {
	c.calls.Add(1)
	return c.s.Keys(ctx)
}

func (c *countingStore) CreateKey(ctx context.Context, r key.Record) error {
	c.calls.Add(1)
	return c.s.CreateKey(ctx, r)
}

func (c *countingStore) UpdateKey(ctx context.Context, r key.Record) error {
	c.calls.Add(1)
	return c.s.UpdateKey(ctx, r)
}

func (c *countingStore) DeleteKey(ctx context.Context, kid string) error {
	c.calls.Add(1)
	return c.s.DeleteKey(ctx, kid)
}

func (c *countingStore) Lock(ctx context.Context) (func() error, error) {
	c.calls.Add(1)
	return c.s.Lock(ctx)
}

func (c *countingStore) Revision(ctx context.Context) (string, error) {
	c.calls.Add(1)
	return c.s.Revision(ctx)
}

func (c *countingStore) Meta(ctx context.Context, name string) (string, error) {
	c.calls.Add(1)
	return c.s.Meta(ctx, name)
}

func (c *countingStore) SetMeta(ctx context.Context, name, value string) error {
	c.calls.Add(1)
	return c.s.SetMeta(ctx, name, value)
}

// ioCounts are a thread's read and write system calls, from
// /proc/self/task/TID/io.
type ioCounts struct{ syscr, syscw int64 }

func threadIO(t *testing.T, tid int) ioCounts {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/io", tid))
	if err != nil {
		t.Skipf("no per-thread I/O accounting: %v", err)
	}
	var c ioCounts
	for line := range strings.Lines(string(b)) {
		name, val, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(val, 10, 64)
		switch name {
		case "syscr":
			c.syscr = n
		case "syscw":
			c.syscw = n
		}
	}
	return c
}

// TestSigningTouchesNoStoreNorDisk issues a burst of tokens of every
// algorithm through the real server and key manager (with this build's
// signer backend), whose keys are sealed in a file store, and checks that no token touched the store (no
// call to it) or the disk (no read or write system call on the thread
// that served them, beyond the two reads that measure it).
func TestSigningTouchesNoStoreNorDisk(t *testing.T) {
	fs, err := filestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{s: fs}
	sealer, err := seal.New([][]byte{[]byte("bench test protection secret, 32+")})
	if err != nil {
		t.Fatal(err)
	}
	opts := key.DefaultOptions()
	opts.SigningAlgorithms = nil
	var resources []server.APIResource
	var scopes []string
	for _, a := range defaultAlgs {
		opts.SigningAlgorithms = append(opts.SigningAlgorithms, key.AlgorithmOptions{Algorithm: a})
		resources = append(resources, server.APIResource{Name: resourceOf(a), Scopes: []string{scopeOf(a)}, AllowedSigningAlgorithms: []key.Algorithm{a}})
		scopes = append(scopes, scopeOf(a))
	}
	// The signer backend of this build: Go, or OpenSSL with -tags openssl.
	signers, err := backend.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { signers.Close() })
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: store, Sealer: sealer, SignerFactory: signers.Factory()})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil { // creates and loads the keys; Run is not started
		t.Fatal(err)
	}
	secret, err := clientauth.ParseSecret(clientauth.HashSHA256("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Issuer: "https://signet.test", Keys: m, APIResources: resources,
		Clients: []server.Client{{ID: benchClient, Secrets: []*clientauth.Secret{secret}, GrantTypes: []string{"client_credentials"}, Scopes: scopes, AccessTokenLifetime: time.Hour}},
	})
	if err != nil {
		t.Fatal(err)
	}
	requests := make([]*http.Request, len(defaultAlgs))
	for i, a := range defaultAlgs {
		r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader("grant_type=client_credentials&scope="+scopeOf(a)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(benchClient+":s3cret")))
		requests[i] = r
	}
	burst := func(n int) {
		for range n {
			for i, r := range requests {
				r.Body = readerBody(r, "grant_type=client_credentials&scope="+scopeOf(defaultAlgs[i]))
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Fatalf("%s: status %d: %s", defaultAlgs[i], w.Code, w.Body)
				}
			}
		}
	}
	burst(1) // first requests fill caches (grants, metrics), like a warm server

	// One thread serves the burst; its system calls are counted.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	a, b := threadIO(t, tid), threadIO(t, tid) // the cost of measuring
	calls := store.calls.Load()
	c := threadIO(t, tid)
	burst(25)
	d := threadIO(t, tid)
	if n := store.calls.Load() - calls; n != 0 {
		t.Errorf("%d key store calls while signing %d tokens; want 0", n, 25*len(defaultAlgs))
	}
	wantR, wantW := b.syscr-a.syscr, b.syscw-a.syscw
	if gotR, gotW := d.syscr-c.syscr, d.syscw-c.syscw; gotR != wantR || gotW != wantW {
		t.Errorf("the signing thread made %d reads and %d writes while signing; measuring alone makes %d and %d", gotR, gotW, wantR, wantW)
	}
}

// readerBody returns a fresh body for r.
func readerBody(r *http.Request, s string) *nopCloser {
	r.ContentLength = int64(len(s))
	return &nopCloser{strings.NewReader(s)}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
