package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/signet-id/signet/keymanager"
)

// An instance that cannot sign (its stored keys cannot be decrypted)
// never serves a cacheable JWKS or discovery document: an empty or short
// key set cached for an hour would make relying parties reject valid
// tokens.
func TestNotReadyServesNoCacheableKeys(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	keys.set(func(f *fakeKeys) {
		f.ready = fmt.Errorf("%w: ES256: signing key k1 is unreadable", keymanager.ErrNotReady)
		f.jwks = &keymanager.JWKS{Body: []byte(`{"keys":[]}`), ETag: `"empty"`}
		f.order = nil
	})
	for _, path := range []string{"/.well-known/openid-configuration/jwks", "/.well-known/openid-configuration"} {
		w := get(s, path)
		h := w.Header()
		if w.Code != 503 || h.Get("Cache-Control") != "no-store" || h.Get("Retry-After") == "" || h.Get("ETag") != "" ||
			!strings.Contains(w.Body.String(), "temporarily_unavailable") || h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s while not ready: %d %v %s", path, w.Code, h, w.Body)
		}
	}
	keys.set(func(f *fakeKeys) { f.ready = nil })
	for _, path := range []string{"/.well-known/openid-configuration/jwks", "/.well-known/openid-configuration"} {
		if w := get(s, path); w.Code != 200 || !strings.HasPrefix(w.Header().Get("Cache-Control"), "public, max-age=") {
			t.Errorf("%s once ready: %d %v", path, w.Code, w.Header())
		}
	}
}
