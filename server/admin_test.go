package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The public listener serves no /metrics and a /readyz without detail;
// the admin handler has both.
func TestAdminHandler(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) { c.Build = BuildInfo{Version: "v1.2.3", Revision: "0123456789ab", Backend: "openssl"} })
	if p := e.browser().get(e.issuer + "/metrics"); p.StatusCode != 404 {
		t.Errorf("public /metrics: %d", p.StatusCode)
	}
	admin := e.s.AdminHandler()
	if w := get(admin, "/metrics"); w.Code != 200 || !strings.Contains(w.Body.String(), `signet_build_info{backend="openssl",revision="0123456789ab",version="v1.2.3"} 1`) {
		t.Errorf("admin /metrics: %d, build info missing", w.Code)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/connect/token"} {
		if w := get(admin, path); w.Code != 404 {
			t.Errorf("admin %s: %d", path, w.Code)
		}
	}

	// During a store outage tokens are still signed, but nobody signs in:
	// the detail says so, the public answer does not name the store.
	const dbErr = `pgstore: connect: failed to connect to host=db.internal user=signet database=signet: password authentication failed`
	e.keys.set(func(f *fakeKeys) { f.storeErr = errors.New(dbErr) })
	if p := e.browser().get(e.issuer + "/readyz"); p.StatusCode != 200 || p.body != `{"status":"degraded"}` {
		t.Errorf("public readyz: %d %s", p.StatusCode, p.body)
	}
	w := get(admin, "/readyz")
	var r readiness
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || w.Code != 200 {
		t.Fatalf("admin readyz: %d %s", w.Code, w.Body)
	}
	if r.Status != "degraded" || r.Tokens != "ready" || !strings.HasPrefix(r.SignIn, "unavailable: ") || r.Store != "unreachable: "+dbErr {
		t.Errorf("admin readyz during an outage: %+v", r)
	}
	if a := r.Algorithms["ES256"]; !strings.HasPrefix(a.State, "signing") {
		t.Errorf("ES256: %+v", a)
	}
}

// Each algorithm's state comes from the key manager's keys.
func TestAdminReadyzAlgorithms(t *testing.T) {
	s := newTestServer(t, newFakeKeys(t)) // ES256: an active and a retired key; EdDSA: active
	w := get(s.AdminHandler(), "/readyz")
	var r readiness
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	es := r.Algorithms["ES256"]
	if !strings.HasPrefix(es.State, "signing with ") || es.Keys["active"] != 1 || es.Keys["retired"] != 1 {
		t.Errorf("ES256: %+v (%s)", es, w.Body)
	}
}
