package privatekeyjwt

import (
	"context"
	"crypto"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/key"
)

// jwksServer serves a JWK Set that tests change, counting requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64

	mu     sync.Mutex
	body   []byte
	header http.Header
	status int
}

func newJWKSServer(t *testing.T, body []byte, header http.Header) *jwksServer {
	s := &jwksServer{body: body, header: header, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		for k, v := range s.header {
			w.Header()[k] = v
		}
		w.WriteHeader(s.status)
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, body []byte, header http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.header = status, body, header
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func oneKey(t *testing.T, kid string) (crypto.Signer, []byte) {
	k := testKey(t, key.ES256)
	return k, publicJWKS(t, map[string]crypto.Signer{kid: k}, map[string]key.Algorithm{kid: key.ES256})
}

func remoteKeySet(t *testing.T, r *Remote, uri string) KeySet {
	t.Helper()
	ks, err := r.KeySet(uri)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// TestRemoteCacheHeaders: a set is not fetched again while its
// Cache-Control max-age lasts, and is once it has passed.
func TestRemoteCacheHeaders(t *testing.T) {
	_, body := oneKey(t, "a")
	srv := newJWKSServer(t, body, http.Header{"Cache-Control": {"public, max-age=600"}})
	clock := &fakeClock{now: t0}
	ks := remoteKeySet(t, NewRemote(RemoteOptions{Now: clock.Now}), srv.URL)
	ctx := context.Background()
	for _, step := range []struct {
		advance time.Duration
		hits    int64
	}{{0, 1}, {5 * time.Minute, 1}, {4*time.Minute + 59*time.Second, 1}, {time.Second, 2}, {9 * time.Minute, 2}, {time.Minute, 3}} {
		clock.Advance(step.advance)
		if _, err := ks.Keys(ctx, "a", key.ES256); err != nil {
			t.Fatal(err)
		}
		if got := srv.hits.Load(); got != step.hits {
			t.Fatalf("at %s: %d fetches; want %d", clock.Now().Sub(t0), got, step.hits)
		}
	}
}

// TestRemoteCacheFor: how long each kind of header caches, clamped.
func TestRemoteCacheFor(t *testing.T) {
	r := NewRemote(RemoteOptions{MinCache: time.Minute, MaxCache: time.Hour, DefaultCache: 5 * time.Minute})
	date := t0.Format(http.TimeFormat)
	for _, c := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Cache-Control": {"max-age=600"}}, 10 * time.Minute},
		{http.Header{"Cache-Control": {"max-age=600"}, "Age": {"120"}}, 8 * time.Minute},
		{http.Header{"Cache-Control": {"public", "max-age=900"}}, 15 * time.Minute},
		{http.Header{"Cache-Control": {"max-age=5"}}, time.Minute},             // clamped up
		{http.Header{"Cache-Control": {"max-age=86400"}}, time.Hour},           // clamped down
		{http.Header{"Cache-Control": {"no-store"}}, time.Minute},              // the least allowed
		{http.Header{"Cache-Control": {"no-cache, max-age=600"}}, time.Minute}, // no-cache wins
		{http.Header{"Cache-Control": {"max-age=oops"}}, 5 * time.Minute},      // ignored
		{http.Header{"Expires": {t0.Add(20 * time.Minute).Format(http.TimeFormat)}, "Date": {date}}, 20 * time.Minute},
		{http.Header{"Expires": {t0.Add(20 * time.Minute).Format(http.TimeFormat)}}, 20 * time.Minute}, // against now
		{http.Header{"Expires": {"0"}}, time.Minute},
		{http.Header{"Cache-Control": {"max-age=120"}, "Expires": {t0.Add(20 * time.Minute).Format(http.TimeFormat)}}, 2 * time.Minute},
		{http.Header{}, 5 * time.Minute},
	} {
		if got := r.cacheFor(c.h, t0); got != c.want {
			t.Errorf("%v: %s; want %s", c.h, got, c.want)
		}
	}
}

// TestRemoteUnknownKidRefetch: an unknown kid fetches the set again, but
// at most once per RefetchInterval, and then says so.
func TestRemoteUnknownKidRefetch(t *testing.T) {
	_, body := oneKey(t, "a")
	srv := newJWKSServer(t, body, http.Header{"Cache-Control": {"max-age=3600"}})
	clock := &fakeClock{now: t0}
	ks := remoteKeySet(t, NewRemote(RemoteOptions{Now: clock.Now}), srv.URL)
	ctx := context.Background()
	if _, err := ks.Keys(ctx, "a", key.ES256); err != nil {
		t.Fatal(err)
	}
	// The client rotates: the set now holds only b.
	_, rotated := oneKey(t, "b")
	srv.set(http.StatusOK, rotated, http.Header{"Cache-Control": {"max-age=3600"}})
	clock.Advance(10 * time.Second)
	_, err := ks.Keys(ctx, "b", key.ES256)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "fetched again at most every 1m0s") || srv.hits.Load() != 1 {
		t.Fatalf("within the interval: %v, %d fetches", err, srv.hits.Load())
	}
	clock.Advance(50 * time.Second)
	if _, err := ks.Keys(ctx, "b", key.ES256); err != nil || srv.hits.Load() != 2 {
		t.Fatalf("after the interval: %v, %d fetches", err, srv.hits.Load())
	}
	// An unknown kid right after: refused without a fetch, many times.
	for range 20 {
		if _, err := ks.Keys(ctx, "zzz", key.ES256); !errors.Is(err, ErrUnknownKey) {
			t.Fatal(err)
		}
	}
	if srv.hits.Load() != 2 {
		t.Fatalf("unknown kids fetched %d times", srv.hits.Load())
	}
	clock.Advance(time.Minute)
	_, err = ks.Keys(ctx, "zzz", key.ES256)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "fetched again just now") || srv.hits.Load() != 3 {
		t.Fatalf("unknown after a refetch: %v, %d fetches", err, srv.hits.Load())
	}
}

// blockingTransport answers every request with body once released.
type blockingTransport struct {
	hits    atomic.Int64
	release chan struct{}
	body    []byte
}

func (b *blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b.hits.Add(1)
	<-b.release
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{}, Body: io.NopCloser(strings.NewReader(string(b.body))), Request: r}, nil
}

// TestRemoteCoalesced: concurrent callers needing one URI share one fetch.
func TestRemoteCoalesced(t *testing.T) {
	_, body := oneKey(t, "a")
	synctest.Test(t, func(t *testing.T) {
		tr := &blockingTransport{release: make(chan struct{}), body: body}
		r := NewRemote(RemoteOptions{HTTPClient: &http.Client{Transport: tr}, Now: func() time.Time { return t0 }})
		ks := remoteKeySet(t, r, "https://client.example.com/jwks")
		const n = 20
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := ks.Keys(context.Background(), "a", key.ES256)
				errs <- err
			}()
		}
		synctest.Wait() // every caller is waiting: in the fetch or for it
		if got := tr.hits.Load(); got != 1 {
			t.Fatalf("%d fetches in flight for %d callers; want 1", got, n)
		}
		close(tr.release)
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if got := tr.hits.Load(); got != 1 {
			t.Fatalf("%d fetches; want 1", got)
		}
	})
}

// TestRemoteWaiterContext: a caller whose context ends stops waiting; the
// fetch goes on for the others.
func TestRemoteWaiterContext(t *testing.T) {
	_, body := oneKey(t, "a")
	synctest.Test(t, func(t *testing.T) {
		tr := &blockingTransport{release: make(chan struct{}), body: body}
		r := NewRemote(RemoteOptions{HTTPClient: &http.Client{Transport: tr}, Now: func() time.Time { return t0 }})
		ks := remoteKeySet(t, r, "https://client.example.com/jwks")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 2)
		go func() { _, err := ks.Keys(ctx, "a", key.ES256); done <- err }()
		go func() { _, err := ks.Keys(context.Background(), "a", key.ES256); done <- err }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrKeySetUnavailable) {
			t.Fatalf("cancelled caller: %v", err)
		}
		close(tr.release)
		if err := <-done; err != nil {
			t.Fatalf("other caller: %v", err)
		}
	})
}

// TestRemoteSizeBound: a response over MaxBytes is refused and not kept.
func TestRemoteSizeBound(t *testing.T) {
	_, body := oneKey(t, "a")
	padded := append([]byte(`{"pad":"`+strings.Repeat("x", DefaultMaxJWKSBytes)+`",`), body[1:]...)
	srv := newJWKSServer(t, padded, nil)
	clock := &fakeClock{now: t0}
	ks := remoteKeySet(t, NewRemote(RemoteOptions{Now: clock.Now}), srv.URL)
	_, err := ks.Keys(context.Background(), "a", key.ES256)
	if !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "larger than 65536 bytes") {
		t.Fatalf("oversize: %v", err)
	}
	// The same set within the bound is accepted (after the interval).
	srv.set(http.StatusOK, body, nil)
	clock.Advance(time.Minute)
	if _, err := ks.Keys(context.Background(), "a", key.ES256); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteTimeout: a server that does not answer fails the fetch
// within Timeout.
func TestRemoteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &blockingTransport{release: make(chan struct{})}
		hang := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			tr.hits.Add(1)
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		r := NewRemote(RemoteOptions{HTTPClient: &http.Client{Transport: hang}, Timeout: 2 * time.Second, Now: func() time.Time { return t0 }})
		ks := remoteKeySet(t, r, "https://client.example.com/jwks")
		start := time.Now()
		_, err := ks.Keys(context.Background(), "a", key.ES256)
		if !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Fatalf("hanging server: %v", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("gave up after %s; want the 2s timeout", d)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRemoteStaleOnError: when a refresh fails the last good set is used
// for MaxStale after its expiry, failed refreshes are rate limited too,
// and a recovered server is used again.
func TestRemoteStaleOnError(t *testing.T) {
	_, body := oneKey(t, "a")
	srv := newJWKSServer(t, body, http.Header{"Cache-Control": {"max-age=60"}})
	clock := &fakeClock{now: t0}
	ks := remoteKeySet(t, NewRemote(RemoteOptions{Now: clock.Now, MaxStale: time.Hour}), srv.URL)
	ctx := context.Background()
	if _, err := ks.Keys(ctx, "a", key.ES256); err != nil {
		t.Fatal(err)
	}
	srv.set(http.StatusInternalServerError, []byte("down"), nil)
	clock.Advance(2 * time.Minute)
	if _, err := ks.Keys(ctx, "a", key.ES256); err != nil || srv.hits.Load() != 2 {
		t.Fatalf("stale set not used: %v, %d fetches", err, srv.hits.Load())
	}
	clock.Advance(10 * time.Second)
	if _, err := ks.Keys(ctx, "a", key.ES256); err != nil || srv.hits.Load() != 2 {
		t.Fatalf("failed refresh not rate limited: %v, %d fetches", err, srv.hits.Load())
	}
	clock.Advance(time.Hour) // past expiry + MaxStale
	_, err := ks.Keys(ctx, "a", key.ES256)
	if !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("too stale: %v", err)
	}
	srv.set(http.StatusOK, body, nil)
	clock.Advance(time.Minute)
	if _, err := ks.Keys(ctx, "a", key.ES256); err != nil {
		t.Fatalf("recovered: %v", err)
	}
}

// TestRemoteFirstFetchFails: with no set yet, a failing URI is fetched at
// most once per interval, and the error names the cause.
func TestRemoteFirstFetchFails(t *testing.T) {
	srv := newJWKSServer(t, []byte("nope"), nil)
	srv.set(http.StatusNotFound, []byte("nope"), nil)
	clock := &fakeClock{now: t0}
	ks := remoteKeySet(t, NewRemote(RemoteOptions{Now: clock.Now}), srv.URL)
	for range 5 {
		_, err := ks.Keys(context.Background(), "a", key.ES256)
		if !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), "404") {
			t.Fatal(err)
		}
	}
	if srv.hits.Load() != 1 {
		t.Fatalf("%d fetches", srv.hits.Load())
	}
}

// TestRemotePrivateKeyRefused: a published set with a private key is not used.
func TestRemotePrivateKeyRefused(t *testing.T) {
	k := testKey(t, key.ES256)
	priv, err := (&jose.JSONWebKey{Key: k, KeyID: "leaked"}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, []byte(`{"keys":[`+string(priv)+`]}`), nil)
	ks := remoteKeySet(t, NewRemote(RemoteOptions{Now: func() time.Time { return t0 }}), srv.URL)
	_, err = ks.Keys(context.Background(), "leaked", key.ES256)
	if !errors.Is(err, ErrKeySetUnavailable) || !strings.Contains(err.Error(), `key "leaked" holds private key material`) {
		t.Fatalf("%v", err)
	}
}

func TestCheckURI(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://client.example.com/jwks":   true,
		"http://127.0.0.1:8080/jwks":        true,
		"http://localhost/jwks":             true,
		"http://[::1]:9/jwks":               true,
		"http://client.example.com/jwks":    false,
		"ftp://client.example.com/jwks":     false,
		"https://u:p@client.example.com/j":  false,
		"https://client.example.com/j#frag": false,
		"/jwks":                             false,
		"https:jwks":                        false,
		"http://127.0.0.1.example.com/jwks": false,
	} {
		err := CheckURI(uri)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrInsecureURI)) {
			t.Errorf("%s: %v", uri, err)
		}
	}
	if _, err := NewRemote(RemoteOptions{}).KeySet("http://client.example.com/jwks"); !errors.Is(err, ErrInsecureURI) {
		t.Fatalf("KeySet: %v", err)
	}
}
