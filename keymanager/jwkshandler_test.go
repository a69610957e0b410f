package keymanager

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
)

func serve(h http.Handler, method string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/jwks", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestJWKSHandler(t *testing.T) {
	m := newManager(t, Config{Options: opts(key.ES256), Store: memstore.New(), Now: newClock().Now})
	h, err := m.JWKSHandler(0)
	if err != nil {
		t.Fatal(err)
	}

	// Not ready: 503, never cacheable, with Retry-After.
	w := serve(h, http.MethodGet)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), `"temporarily_unavailable"`) || w.Header().Get("ETag") != "" {
		t.Fatalf("before start: %d %v %s", w.Code, w.Header(), w.Body)
	}

	start(t, m)
	w = serve(h, http.MethodGet)
	etag := w.Header().Get("ETag")
	// The default max-age is min(1h, propagationTime/2): 1h for 14d.
	if w.Code != 200 || w.Header().Get("Cache-Control") != "public, max-age=3600" || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") ||
		w.Header().Get("Content-Type") != "application/json" || w.Body.String() != string(m.JWKS().Body) || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET: %d %v %s", w.Code, w.Header(), w.Body)
	}
	for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
		if w := serve(h, http.MethodGet, "If-None-Match", inm); w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: %d %q", inm, w.Code, w.Body)
		}
	}
	if w := serve(h, http.MethodGet, "If-None-Match", `"other"`, "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match in a second header: %d", w.Code)
	}
	if w := serve(h, http.MethodGet, "If-None-Match", `"other"`); w.Code != 200 {
		t.Fatalf("a different ETag: %d", w.Code)
	}

	// HEAD through a mux: the headers without the body.
	mux := http.NewServeMux()
	mux.Handle("GET /jwks", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Head(srv.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != etag || resp.ContentLength != int64(len(m.JWKS().Body)) {
		t.Fatalf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestJWKSHandlerMaxAgeBounded(t *testing.T) {
	o := opts(key.ES256)
	o.PropagationTime = time.Hour
	o.RotationInterval = 10 * time.Hour
	m := newManager(t, Config{Options: o, Store: memstore.New(), Now: newClock().Now})
	if _, err := m.JWKSHandler(31 * time.Minute); !errors.Is(err, key.ErrInvalidOptions) || !strings.Contains(err.Error(), "jwksMaxAge") {
		t.Fatalf("max-age above propagationTime/2: %v", err)
	}
	if _, err := m.JWKSHandler(-time.Second); !errors.Is(err, key.ErrInvalidOptions) {
		t.Fatalf("negative max-age: %v", err)
	}
	start(t, m)
	for maxAge, want := range map[time.Duration]string{0: "public, max-age=1800", 30 * time.Minute: "public, max-age=1800", 90 * time.Second: "public, max-age=90"} {
		h, err := m.JWKSHandler(maxAge)
		if err != nil {
			t.Fatal(err)
		}
		if got := serve(h, http.MethodGet).Header().Get("Cache-Control"); got != want {
			t.Errorf("max-age %s: Cache-Control %q, want %q", maxAge, got, want)
		}
	}
}

func TestDiscoveryFields(t *testing.T) {
	m := newManager(t, Config{Options: opts(key.ES256, key.RS256), Store: memstore.New(), Now: newClock().Now})
	start(t, m)
	d := m.DiscoveryFields("https://api.example/.well-known/jwks.json")
	if d.JWKSURI != "https://api.example/.well-known/jwks.json" || strings.Join(d.IDTokenSigningAlgValuesSupported, ",") != "ES256,RS256" {
		t.Fatalf("discovery %+v", d)
	}
}
