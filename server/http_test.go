package server

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server/internal/oauth"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// staticManager is a real key manager with only static keys (no managed
// keys), so its JWKS is the same on every run.
func staticManager(t *testing.T) *keymanager.Manager {
	t.Helper()
	signer, certs, err := jwk.ParsePrivateKey(readFile(t, "testdata/rsa.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ecPub, _, err := jwk.ParsePublicKey(readFile(t, "testdata/ec.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	edPub, edCerts, err := jwk.ParsePublicKey(readFile(t, "testdata/ed25519.crt"))
	if err != nil {
		t.Fatal(err)
	}
	opts := key.DefaultOptions()
	opts.Enabled = false
	opts.ProtectKeys = false
	m, err := keymanager.New(keymanager.Config{
		Options: opts,
		Store:   memstore.New(),
		Static:  &keymanager.StaticKey{Algorithm: key.RS256, Signer: signer, Certificates: certs},
		Validation: []keymanager.StaticKey{
			{KID: "legacy-ec", Algorithm: key.ES256, Public: ecPub},
			{Algorithm: key.EdDSA, Public: edPub, Certificates: edCerts},
		},
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// managedManager is a real key manager with managed keys of three
// algorithms (one X.509-wrapped), a static signing credential given as a
// private key and a validation key given as a private key.
func managedManager(t *testing.T) *keymanager.Manager {
	t.Helper()
	signer, _, err := jwk.ParsePrivateKey(readFile(t, "testdata/ec.pem"))
	if err != nil {
		t.Fatal(err)
	}
	edPriv, _, err := jwk.ParsePrivateKey(readFile(t, "testdata/ed25519.pem"))
	if err != nil {
		t.Fatal(err)
	}
	opts := key.DefaultOptions()
	opts.ProtectKeys = false
	opts.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.RS256}, {Algorithm: key.ES256, X509: true}, {Algorithm: key.EdDSA}}
	m, err := keymanager.New(keymanager.Config{
		Options:    opts,
		Store:      memstore.New(),
		Static:     &keymanager.StaticKey{KID: "static", Algorithm: key.ES256, Signer: signer},
		Validation: []keymanager.StaticKey{{KID: "old", Algorithm: key.EdDSA, Public: edPriv.(crypto.Signer).Public()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

func get(h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestDiscoveryGolden(t *testing.T) {
	s := newTestServer(t, staticManager(t))
	w := get(s, "/.well-known/openid-configuration")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "public, max-age=90" {
		t.Fatalf("status %d, headers %v", w.Code, w.Header())
	}
	golden(t, "discovery.golden", indent(t, w.Body.Bytes()))
}

func TestDiscoveryFollowsSigningAlgorithms(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	doc := func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal(get(s, "/.well-known/openid-configuration").Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if got := fmt.Sprint(doc()["id_token_signing_alg_values_supported"]); got != "[ES256 EdDSA]" {
		t.Errorf("algs = %s", got)
	}
	keys.set(func(f *fakeKeys) { f.order = []key.Algorithm{key.EdDSA} })
	if got := fmt.Sprint(doc()["id_token_signing_alg_values_supported"]); got != "[EdDSA]" {
		t.Errorf("after a change, algs = %s", got)
	}
}

func TestIssuerPath(t *testing.T) {
	keys := newFakeKeys(t)
	s, err := New(Config{Issuer: "https://login.example.com/tenant-a", Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	w := get(s, "/tenant-a/.well-known/openid-configuration")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"token_endpoint":"https://login.example.com/tenant-a/connect/token"`) ||
		!strings.Contains(w.Body.String(), `"jwks_uri":"https://login.example.com/tenant-a/.well-known/openid-configuration/jwks"`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w := get(s, "/tenant-a/.well-known/openid-configuration/jwks"); w.Code != 200 {
		t.Errorf("jwks under the issuer path: %d", w.Code)
	}
	if w := get(s, "/.well-known/openid-configuration"); w.Code != 404 {
		t.Errorf("discovery outside the issuer path: %d", w.Code)
	}
	if w := get(s, "/healthz"); w.Code != 200 {
		t.Errorf("healthz: %d", w.Code)
	}
	for _, bad := range []string{"", "login.example.com", "https://a.example/", "https://a.example?x=1", "ftp://a.example"} {
		if _, err := New(Config{Issuer: bad, Keys: keys}); err == nil {
			t.Errorf("issuer %q accepted", bad)
		}
	}
	if _, err := New(Config{Issuer: "https://a.example"}); err == nil {
		t.Error("no Keys accepted")
	}
}

func TestJWKSGolden(t *testing.T) {
	s := newTestServer(t, staticManager(t))
	w := get(s, "/.well-known/openid-configuration/jwks")
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	golden(t, "jwks.golden", indent(t, w.Body.Bytes()))
}

// The shape of a JWKS with managed keys: values that change on every run
// (key material, kids, certificates) are masked.
func TestJWKSManagedShapeGolden(t *testing.T) {
	m := managedManager(t)
	s := newTestServer(t, m)
	w := get(s, "/.well-known/openid-configuration/jwks")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		for name, v := range k {
			switch name {
			case "kty", "use", "alg", "crv", "e":
			case "kid":
				if v != "static" && v != "old" {
					k[name] = "<kid>"
				}
			case "x5c":
				k[name] = []string{"<certificate>"}
			default:
				k[name] = "<" + name + ">"
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(set); err != nil {
		t.Fatal(err)
	}
	golden(t, "jwks-managed-shape.golden", b.Bytes())
}

// No private JWK member may ever appear in the JWKS, whatever the keys
// were configured from (here: private keys for the static signing
// credential and the validation key, and managed keys of every family).
func TestJWKSHasNoPrivateMembers(t *testing.T) {
	for name, keys := range map[string]Keys{"static": staticManager(t), "managed": managedManager(t)} {
		s := newTestServer(t, keys)
		body := get(s, "/.well-known/openid-configuration/jwks").Body.Bytes()
		var set struct {
			Keys []map[string]json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		if len(set.Keys) < 3 {
			t.Fatalf("%s: only %d keys", name, len(set.Keys))
		}
		for _, k := range set.Keys {
			for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth", "r", "t"} {
				if _, ok := k[member]; ok {
					t.Errorf("%s: key %s has private member %q", name, k["kid"], member)
				}
			}
		}
		// And no private key bytes anywhere in the body, in any encoding.
		if regexp.MustCompile(`"(d|p|q|dp|dq|qi|k)"\s*:`).Match(body) {
			t.Errorf("%s: body has a private member: %s", name, body)
		}
	}
}

func TestJWKSCaching(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	const path = "/.well-known/openid-configuration/jwks"
	w := get(s, path)
	if w.Code != 200 || w.Header().Get("ETag") != `"v1"` || w.Header().Get("Cache-Control") != "public, max-age=90" ||
		w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Content-Length") != fmt.Sprint(len(keys.jwks.Body)) ||
		!bytes.Equal(w.Body.Bytes(), keys.jwks.Body) {
		t.Fatalf("GET: %d %v %s", w.Code, w.Header(), w.Body)
	}
	for _, tc := range []struct {
		inm  []string
		want int
	}{
		{[]string{`"v1"`}, 304},
		{[]string{`W/"v1"`}, 304},
		{[]string{`"v0", "v1"`}, 304},
		{[]string{`"v0"`, `"v1"`}, 304},
		{[]string{`*`}, 304},
		{[]string{`"v0"`}, 200},
		{[]string{`v1`}, 200},
		{[]string{`"v1`}, 200},
		{[]string{``}, 200},
	} {
		var hdr []string
		for _, v := range tc.inm {
			hdr = append(hdr, "If-None-Match", v)
		}
		w := get(s, path, hdr...)
		if w.Code != tc.want {
			t.Errorf("If-None-Match %q: %d, want %d", tc.inm, w.Code, tc.want)
		}
		if w.Code == 304 && (w.Body.Len() != 0 || w.Header().Get("ETag") != `"v1"` || w.Header().Get("Cache-Control") != "public, max-age=90") {
			t.Errorf("304 response: %v %q", w.Header(), w.Body)
		}
	}

	// HEAD through a real server: headers, no body.
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Head(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("ETag") != `"v1"` || resp.ContentLength != int64(len(keys.jwks.Body)) {
		t.Errorf("HEAD: %d %v body %q", resp.StatusCode, resp.Header, b)
	}

	// A key change is visible on the next request.
	keys.set(func(f *fakeKeys) { f.jwks = &keymanager.JWKS{Body: []byte(`{"keys":[]}`), ETag: `"v2"`} })
	w = get(s, path, "If-None-Match", `"v1"`)
	if w.Code != 200 || w.Header().Get("ETag") != `"v2"` || w.Body.String() != `{"keys":[]}` {
		t.Errorf("after a change: %d %v %s", w.Code, w.Header(), w.Body)
	}
	// Not started yet.
	keys.set(func(f *fakeKeys) { f.jwks = nil })
	if w := get(s, path); w.Code != 503 {
		t.Errorf("no JWKS: %d", w.Code)
	}
}

func TestJWKSMaxAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{time.Hour, "public, max-age=3600"}, {500 * time.Millisecond, "public, max-age=0"}, {0, "public, max-age=0"}} {
		s, err := New(Config{Issuer: "https://a.example", Keys: newFakeKeys(t), JWKSMaxAge: tc.d})
		if err != nil {
			t.Fatal(err)
		}
		if got := get(s, "/.well-known/openid-configuration/jwks").Header().Get("Cache-Control"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.d, got, tc.want)
		}
	}
	if _, err := New(Config{Issuer: "https://a.example", Keys: newFakeKeys(t), JWKSMaxAge: -1}); err == nil {
		t.Error("negative max-age accepted")
	}
}

func TestHealth(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	admin := s.AdminHandler()
	for _, h := range []http.Handler{s, admin} {
		if w := get(h, "/healthz"); w.Code != 200 || w.Body.String() != `{"status":"ok"}` {
			t.Errorf("healthz: %d %s", w.Code, w.Body)
		}
	}
	if w := get(s, "/readyz"); w.Code != 200 || w.Body.String() != `{"status":"ready"}` {
		t.Errorf("readyz: %d %s", w.Code, w.Body)
	}
	if w := get(admin, "/readyz"); w.Code != 200 || !strings.HasPrefix(w.Body.String(), `{"status":"ready","tokens":"ready","signIn":"disabled","store":"ok","algorithms":{`) {
		t.Errorf("admin readyz: %d %s", w.Code, w.Body)
	}
	// A store outage keeps the instance in rotation (it still signs) and
	// says so: the detail only on the admin listener, and the metrics.
	keys.set(func(f *fakeKeys) { f.storeErr = errors.New("keystore: store unavailable: connection refused") })
	if w := get(s, "/readyz"); w.Code != 200 || w.Body.String() != `{"status":"degraded"}` {
		t.Errorf("readyz during a store outage: %d %s", w.Code, w.Body)
	}
	if w := get(admin, "/readyz"); w.Code != 200 || !strings.HasPrefix(w.Body.String(), `{"status":"degraded","tokens":"ready","signIn":"disabled","store":"unreachable: keystore: store unavailable: connection refused"`) {
		t.Errorf("admin readyz during a store outage: %d %s", w.Code, w.Body)
	}
	if w := get(admin, "/metrics"); !strings.Contains(w.Body.String(), "signet_key_store_up 0") {
		t.Errorf("metrics during a store outage lack signet_key_store_up 0")
	}
	keys.set(func(f *fakeKeys) { f.storeErr = nil })
	if w := get(admin, "/metrics"); !strings.Contains(w.Body.String(), "signet_key_store_up 1") {
		t.Errorf("metrics lack signet_key_store_up 1")
	}
	keys.set(func(f *fakeKeys) {
		f.ready = fmt.Errorf("%w: ES256: signing key k1 is unreadable", keymanager.ErrNotReady)
	})
	if w := get(s, "/readyz"); w.Code != 503 || w.Body.String() != `{"status":"not ready"}` {
		t.Errorf("public readyz not ready: %d %s", w.Code, w.Body)
	}
	w := get(admin, "/readyz")
	var body struct{ Status, Tokens string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 503 || body.Status != "not ready" || !strings.Contains(body.Tokens, "k1 is unreadable") {
		t.Errorf("readyz not ready: %d %s", w.Code, w.Body)
	}
	if w := get(s, "/healthz"); w.Code != 200 {
		t.Errorf("healthz while not ready: %d", w.Code)
	}
	r := httptest.NewRequest("POST", "/healthz", nil)
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 405 {
		t.Errorf("POST /healthz: %d", w.Code)
	}
}

func TestMetrics(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	newTestServer(t, keys) // a second server in the process: separate registries, no conflict
	post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"billing", "billing-secret"})
	post(s, url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}, [2]string{"billing", "billing-secret"})
	post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"billing", "wrong"})
	get(s, "/nope")
	w := get(s.AdminHandler(), "/metrics")
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`signet_tokens_issued_total{algorithm="EdDSA",grant_type="client_credentials"} 1`,
		`signet_tokens_issued_total{algorithm="ES256",grant_type="client_credentials"} 1`,
		`signet_token_errors_total{error="invalid_client"} 1`,
		`signet_keys{algorithm="ES256",state="active"} 1`,
		`signet_keys{algorithm="ES256",state="retired"} 1`,
		`signet_keys{algorithm="EdDSA",state="active"} 1`,
		`signet_keys_unreadable 0`,
		`signet_key_next_change_seconds 600`,
		`signet_signing_backend{algorithm="ES256",backend="go"} 1`,
		`signet_http_request_duration_seconds_count{route="token"} 3`,
		`signet_http_requests_total{code="200",route="token"} 2`,
		`signet_http_requests_total{code="401",route="token"} 1`,
		`signet_http_requests_total{code="404",route="unmatched"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	keys.set(func(f *fakeKeys) { f.next = time.Time{} })
	if strings.Contains(get(s.AdminHandler(), "/metrics").Body.String(), "signet_key_next_change_seconds ") {
		t.Error("next change reported with nothing scheduled")
	}
	if mfs, err := s.Gatherer().Gather(); err != nil || len(mfs) == 0 {
		t.Errorf("Gather: %v", err)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "ctl\x00\x1f\n\r\t", "<a&b>", "héllo ✓", "bad\xffutf8", "\u2028\u2029", "emoji 🎉"} {
		want, _ := json.Marshal(s)
		if got := oauth.AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("oauth.AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	if got := string(oauth.AppendJSONStrings(nil, []string{"a", "b\""})); got != `["a","b\""]` {
		t.Errorf("oauth.AppendJSONStrings = %s", got)
	}
}

func TestEtagMatches(t *testing.T) {
	if keymanager.ETagMatches([]string{`"a", W/"b"`}, `"c"`) || !keymanager.ETagMatches([]string{` "c" `}, `"c"`) || !slices.Contains([]bool{keymanager.ETagMatches([]string{`*`}, `"x"`)}, true) {
		t.Error("etagMatches")
	}
}
