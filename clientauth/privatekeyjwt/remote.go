package privatekeyjwt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/signet-id/signet/key"
)

// Defaults of [RemoteOptions].
const (
	DefaultFetchTimeout    = 5 * time.Second
	DefaultMaxJWKSBytes    = 64 << 10
	DefaultMinCache        = time.Minute
	DefaultMaxCache        = 24 * time.Hour
	DefaultCache           = 5 * time.Minute
	DefaultRefetchInterval = time.Minute
	DefaultMaxStale        = 24 * time.Hour
)

// RemoteOptions configure a [Remote]. Zero values take the defaults.
type RemoteOptions struct {
	// HTTPClient fetches the sets; nil means a client with Timeout that
	// follows at most 3 redirects, each to a URI [CheckURI] accepts.
	HTTPClient *http.Client
	// Timeout bounds one fetch (DefaultFetchTimeout).
	Timeout time.Duration
	// MaxBytes bounds a response body (DefaultMaxJWKSBytes).
	MaxBytes int64
	// MinCache and MaxCache clamp the lifetime the cache headers give a
	// set (DefaultMinCache, DefaultMaxCache); DefaultCache applies when
	// the response has none.
	MinCache, MaxCache, DefaultCache time.Duration
	// RefetchInterval is the least time between two fetches of one URI,
	// whatever asks for it: an expired set, an unknown kid or a failure
	// (DefaultRefetchInterval).
	RefetchInterval time.Duration
	// MaxStale is how long after its expiry a set is still used while
	// refreshes fail (DefaultMaxStale).
	MaxStale time.Duration
	// Algorithms validate the fetched sets as [ParseKeySet] does (nil:
	// [DefaultAlgorithms]).
	Algorithms []key.Algorithm
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
}

// Remote fetches and caches clients' JWK Sets by jwks_uri. One Remote
// serves every client; a URI's cache entry lives as long as the Remote
// (URIs come from configuration, not from requests). Safe for concurrent
// use.
type Remote struct {
	o     RemoteOptions
	group singleflight.Group

	mu      sync.Mutex // guards entries and the entries' fields
	entries map[string]*remoteEntry
}

type remoteEntry struct {
	keys    []jose.JSONWebKey // the last good set; nil before one
	expires time.Time         // of keys
	attempt time.Time         // of the last fetch, good or not
	err     error             // of the last fetch; nil if it succeeded
}

// NewRemote returns a Remote.
func NewRemote(o RemoteOptions) *Remote {
	if o.Timeout <= 0 {
		o.Timeout = DefaultFetchTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxJWKSBytes
	}
	if o.MinCache <= 0 {
		o.MinCache = DefaultMinCache
	}
	if o.MaxCache <= 0 {
		o.MaxCache = DefaultMaxCache
	}
	if o.MaxCache < o.MinCache {
		o.MaxCache = o.MinCache
	}
	if o.DefaultCache <= 0 {
		o.DefaultCache = DefaultCache
	}
	if o.RefetchInterval <= 0 {
		o.RefetchInterval = DefaultRefetchInterval
	}
	if o.MaxStale <= 0 {
		o.MaxStale = DefaultMaxStale
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout, CheckRedirect: checkRedirect}
	}
	return &Remote{o: o, entries: make(map[string]*remoteEntry)}
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("more than 3 redirects")
	}
	return CheckURI(req.URL.String())
}

// CheckURI reports whether uri may be a client's jwks_uri: an absolute
// https URL without user info or fragment, or http to a loopback host
// (localhost, 127.0.0.0/8, ::1) for development and tests. Errors wrap
// ErrInsecureURI.
func CheckURI(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%w: %q is not an absolute URL", ErrInsecureURI, uri)
	}
	if u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%w: %q has user info or a fragment", ErrInsecureURI, uri)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q; only https (or http to localhost, for development) is fetched", ErrInsecureURI, uri)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// KeySet returns the key set published at uri, or an error if
// [CheckURI] refuses it. Nothing is fetched until a key is needed.
func (r *Remote) KeySet(uri string) (KeySet, error) {
	if err := CheckURI(uri); err != nil {
		return nil, err
	}
	return &remoteSet{r: r, uri: uri}, nil
}

type remoteSet struct {
	r   *Remote
	uri string
}

func (s *remoteSet) Keys(ctx context.Context, kid string, alg key.Algorithm) ([]jose.JSONWebKey, error) {
	return s.r.keys(ctx, s.uri, kid, alg)
}

// snapshot returns a copy of uri's entry.
func (r *Remote) snapshot(uri string) remoteEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[uri]; e != nil {
		return *e
	}
	return remoteEntry{}
}

func (r *Remote) mayFetch(e remoteEntry, now time.Time) bool {
	return e.attempt.IsZero() || now.Sub(e.attempt) >= r.o.RefetchInterval
}

func (r *Remote) keys(ctx context.Context, uri string, kid string, alg key.Algorithm) ([]jose.JSONWebKey, error) {
	now := r.o.Now()
	e := r.snapshot(uri)
	fetched := false
	if (e.keys == nil || !now.Before(e.expires)) && r.mayFetch(e, now) {
		var err error
		if e, err = r.fetch(ctx, uri); err != nil {
			return nil, err // ctx ended
		}
		fetched = true
	}
	if e.keys == nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeySetUnavailable, uri, e.err)
	}
	if !now.Before(e.expires.Add(r.o.MaxStale)) {
		return nil, fmt.Errorf("%w: %s: the cached set expired at %s and refreshing it fails: %v", ErrKeySetUnavailable, uri, e.expires.UTC().Format(time.RFC3339), e.err)
	}
	if out := selectKeys(e.keys, kid, alg); len(out) > 0 {
		return out, nil
	}
	if !fetched && r.mayFetch(e, now) {
		var err error
		if e, err = r.fetch(ctx, uri); err != nil {
			return nil, err
		}
		fetched = true
		if e.keys != nil {
			if out := selectKeys(e.keys, kid, alg); len(out) > 0 {
				return out, nil
			}
		}
	}
	where := "the JWKS at " + uri
	if fetched {
		where += " (fetched again just now)"
	} else {
		where += fmt.Sprintf(" (fetched at %s; fetched again at most every %s)", e.attempt.UTC().Format(time.RFC3339), r.o.RefetchInterval)
	}
	return nil, noMatch(kid, alg, where)
}

// fetch fetches uri once for all concurrent callers, unless another fetch
// happened within RefetchInterval, and returns the entry after it. The
// fetch runs on a context detached from the caller's (one caller giving
// up does not fail the others) bounded by Timeout; a caller whose ctx
// ends stops waiting with ctx's error.
func (r *Remote) fetch(ctx context.Context, uri string) (remoteEntry, error) {
	ch := r.group.DoChan(uri, func() (any, error) {
		now := r.o.Now()
		if e := r.snapshot(uri); !r.mayFetch(e, now) {
			return e, nil // another flight just fetched
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.Timeout)
		defer cancel()
		keys, ttl, err := r.get(fctx, uri, now)
		r.mu.Lock()
		defer r.mu.Unlock()
		e := r.entries[uri]
		if e == nil {
			e = &remoteEntry{}
			r.entries[uri] = e
		}
		e.attempt = now
		e.err = err
		if err == nil {
			e.keys = keys
			e.expires = now.Add(ttl)
		}
		return *e, nil
	})
	select {
	case res := <-ch:
		return res.Val.(remoteEntry), nil
	case <-ctx.Done():
		return remoteEntry{}, fmt.Errorf("%w: %s: %w", ErrKeySetUnavailable, uri, ctx.Err())
	}
}

// get fetches and validates one set and returns how long to cache it.
func (r *Remote) get(ctx context.Context, uri string, now time.Time) ([]jose.JSONWebKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.o.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("answered %s; expected 200", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.o.MaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the body: %w", err)
	}
	if int64(len(body)) > r.o.MaxBytes {
		return nil, 0, fmt.Errorf("the body is larger than %d bytes", r.o.MaxBytes)
	}
	keys, err := parseKeys(body, r.o.Algorithms)
	if err != nil {
		return nil, 0, err
	}
	return keys, r.cacheFor(resp.Header, now), nil
}

// cacheFor returns how long a response may be cached: Cache-Control
// max-age less Age, else Expires less Date, else DefaultCache;
// no-store and no-cache mean as little as allowed; clamped to
// [MinCache, MaxCache].
func (r *Remote) cacheFor(h http.Header, now time.Time) time.Duration {
	d, ok := headerLifetime(h, now)
	if !ok {
		d = r.o.DefaultCache
	}
	return min(max(d, r.o.MinCache), r.o.MaxCache)
}

func headerLifetime(h http.Header, now time.Time) (time.Duration, bool) {
	for _, cc := range h.Values("Cache-Control") {
		for dir := range strings.SplitSeq(cc, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return 0, true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				d := time.Duration(min(n, int64(365*24*3600))) * time.Second
				if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
					d -= time.Duration(min(age, int64(365*24*3600))) * time.Second
				}
				return d, true
			}
		}
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0, true // an invalid Expires means already expired (RFC 9111 5.3)
		}
		base := now
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			base = date
		}
		return t.Sub(base), true
	}
	return 0, false
}
