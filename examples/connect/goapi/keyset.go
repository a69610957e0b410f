package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KeySet caches the issuer's JWKS by the rules docs/key-management.md
// sets for relying parties:
//
//   - it keeps the JWKS for the response's Cache-Control max-age, at most
//     MaxAge (keep that no longer than Signet's relyingPartyCache), so a
//     revoked key stops being accepted within that time;
//   - a token naming a kid it does not hold (a key rotated in) makes it
//     fetch again at once, but at most once per MinRefetch, so tokens with
//     made-up kids cannot make it hammer Signet;
//   - when a fetch fails, it keeps using the keys it has.
type KeySet struct {
	url        string
	client     *http.Client
	MaxAge     time.Duration
	MinRefetch time.Duration
	now        func() time.Time

	mu      sync.Mutex
	keys    map[string]jose.JSONWebKey
	fetched time.Time // of the last fetch attempt
	expires time.Time
}

// NewKeySet returns a KeySet for a JWKS URL, with MaxAge 1h and
// MinRefetch 10s.
func NewKeySet(url string, client *http.Client) *KeySet {
	return &KeySet{url: url, client: client, MaxAge: time.Hour, MinRefetch: 10 * time.Second, now: time.Now}
}

// ErrUnknownKey means the kid is not in the issuer's JWKS.
var ErrUnknownKey = errors.New("no key with this kid in the issuer's JWKS")

// Key returns the public key with this kid.
func (s *KeySet) Key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	k, ok := s.keys[kid]
	stale := !now.Before(s.expires)
	if ok && !stale {
		return k, nil
	}
	if stale || now.Sub(s.fetched) >= s.MinRefetch {
		if err := s.fetch(ctx, now); err != nil && s.keys == nil {
			return jose.JSONWebKey{}, err
		}
		k, ok = s.keys[kid]
	}
	if !ok {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
	return k, nil
}

// fetch replaces the keys with the JWKS's public signing keys.
func (s *KeySet) fetch(ctx context.Context, now time.Time) error {
	s.fetched = now
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching the JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the JWKS: status %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("reading the JWKS: %w", err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, k := range set.Keys {
		if k.IsPublic() && (k.Use == "" || k.Use == "sig") && k.KeyID != "" {
			keys[k.KeyID] = k
		}
	}
	s.keys = keys
	s.expires = now.Add(min(maxAge(resp.Header.Get("Cache-Control")), s.MaxAge))
	return nil
}

// maxAge is the Cache-Control max-age; 0 without one (or with no-store).
func maxAge(cc string) time.Duration {
	var age time.Duration
	for d := range strings.SplitSeq(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-store" || d == "no-cache" {
			return 0
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				age = time.Duration(n) * time.Second
			}
		}
	}
	return age
}
