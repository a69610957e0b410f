package server

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

// fakeKeys is a Keys whose answers a test sets.
type fakeKeys struct {
	mu          sync.Mutex
	keys        map[key.Algorithm]*jws.Key // signing credentials, by algorithm
	order       []key.Algorithm            // default first
	signErr     error                      // returned by SigningKey when set
	panicSign   bool
	jwks        *keymanager.JWKS
	ready       error
	storeErr    error
	infos       []keymanager.KeyInfo
	next        time.Time
	lastAllowed []key.Algorithm
	calls       int
}

func (f *fakeKeys) StoreError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.storeErr
}

func (f *fakeKeys) SigningKey(allowed []key.Algorithm) (*jws.Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.lastAllowed = append([]key.Algorithm(nil), allowed...)
	if f.panicSign {
		panic("fake: secret panic detail")
	}
	if f.signErr != nil {
		return nil, f.signErr
	}
	if len(allowed) == 0 {
		return f.keys[f.order[0]], nil
	}
	for _, a := range f.order {
		for _, b := range allowed {
			if a == b {
				return f.keys[a], nil
			}
		}
	}
	return nil, keymanager.ErrNoAllowedAlgorithm
}

func (f *fakeKeys) JWKS() *keymanager.JWKS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jwks
}

func (f *fakeKeys) SigningAlgorithms() []key.Algorithm {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]key.Algorithm(nil), f.order...)
}

func (f *fakeKeys) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeKeys) Keys() []keymanager.KeyInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.infos
}

func (f *fakeKeys) Next() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next
}

func (f *fakeKeys) set(fn func(f *fakeKeys)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// newFakeKeys signs with fresh ES256 and EdDSA keys (ES256 by default).
func newFakeKeys(t testing.TB) *fakeKeys {
	t.Helper()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	f := &fakeKeys{keys: map[key.Algorithm]*jws.Key{}}
	var pubs []jose.JSONWebKey
	for _, k := range []struct {
		kid string
		alg key.Algorithm
		s   crypto.Signer
	}{{"es-1", key.ES256, ec}, {"ed-1", key.EdDSA, ed}} {
		jk, err := jws.NewKey(k.kid, k.alg, k.s)
		if err != nil {
			t.Fatal(err)
		}
		f.keys[k.alg] = jk
		f.order = append(f.order, k.alg)
		pub, err := jwk.Public(k.kid, k.alg, k.s.Public(), nil)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, pub)
	}
	body, err := jwk.EncodeSet(pubs)
	if err != nil {
		t.Fatal(err)
	}
	f.jwks = &keymanager.JWKS{Body: body, ETag: `"v1"`}
	f.next = time.Unix(1_700_000_600, 0)
	f.infos = []keymanager.KeyInfo{
		{KID: "es-1", Algorithm: key.ES256, State: key.StateActive},
		{KID: "es-0", Algorithm: key.ES256, State: key.StateRetired},
		{KID: "ed-1", Algorithm: key.EdDSA, State: key.StateActive},
	}
	return f
}

var testNow = time.Unix(1_700_000_000, 0)

func secret(t testing.TB, s string) *clientauth.Secret {
	t.Helper()
	sec, err := clientauth.ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func testClients(t testing.TB) ([]Client, []APIResource) {
	cc := []string{"client_credentials"}
	return []Client{
			{ID: "billing", Secrets: []*clientauth.Secret{secret(t, clientauth.HashSHA256("billing-secret"))}, GrantTypes: cc,
				Scopes: []string{"orders.read", "orders.write", "reports.read", "ledger.read"}, AccessTokenLifetime: time.Hour},
			{ID: "poster", Secrets: []*clientauth.Secret{secret(t, "plain:poster-secret")}, GrantTypes: cc,
				Scopes: []string{"reports.read"}, AccessTokenLifetime: 5 * time.Minute},
			{ID: "mixed", Secrets: []*clientauth.Secret{secret(t, "plain:mixed-secret")}, GrantTypes: cc,
				Scopes: []string{"orders.read", "inventory.read"}, AccessTokenLifetime: time.Hour},
			{ID: "noscope", Secrets: []*clientauth.Secret{secret(t, "plain:noscope-secret")}, GrantTypes: cc, AccessTokenLifetime: time.Hour},
			{ID: "nogrant", Secrets: []*clientauth.Secret{secret(t, "plain:nogrant-secret")}, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour},
			{ID: "weird id:+%", Secrets: []*clientauth.Secret{secret(t, "plain:p@ss w:rd+%")}, GrantTypes: cc, Scopes: []string{"reports.read"}, AccessTokenLifetime: time.Hour},
			{ID: "rsaonly", Secrets: []*clientauth.Secret{secret(t, "plain:rsaonly-secret")}, GrantTypes: cc, Scopes: []string{"inventory.read"}, AccessTokenLifetime: time.Hour},
		}, []APIResource{
			{Name: "orders", Scopes: []string{"orders.read", "orders.write"}, AllowedSigningAlgorithms: []key.Algorithm{key.EdDSA}},
			{Name: "inventory", Scopes: []string{"inventory.read"}, AllowedSigningAlgorithms: []key.Algorithm{key.RS256}},
			{Name: "reports", Scopes: []string{"reports.read"}},
			{Name: "ledger", Scopes: []string{"ledger.read"}, AllowedSigningAlgorithms: []key.Algorithm{key.ES256, key.EdDSA}},
		}
}

func newTestServer(t testing.TB, keys Keys) *Server {
	t.Helper()
	clients, resources := testClients(t)
	s, err := New(Config{
		Issuer:       "https://login.example.com",
		Keys:         keys,
		Clients:      clients,
		APIResources: resources,
		JWKSMaxAge:   90 * time.Second,
		Now:          func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// post sends a token request to h.
func post(h http.Handler, form url.Values, basic [2]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic[0] != "" {
		r.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

type errorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// claims are the RFC 9068 claims, with aud either form.
type claims struct {
	Iss      string          `json:"iss"`
	Exp      int64           `json:"exp"`
	Aud      json.RawMessage `json:"aud"`
	Sub      string          `json:"sub"`
	ClientID string          `json:"client_id"`
	Iat      int64           `json:"iat"`
	Nbf      int64           `json:"nbf"`
	Jti      string          `json:"jti"`
	Scope    string          `json:"scope"`
}

// verify checks a token's signature against pub and returns its header and claims.
func verify(t testing.TB, token string, pub crypto.PublicKey) (jose.Header, claims) {
	t.Helper()
	sig, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256, jose.PS256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	payload, err := sig.Verify(pub)
	if err != nil {
		t.Fatalf("verify token: %v", err)
	}
	return sig.Signatures[0].Protected, decode[claims](t, payload)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var errBoom = errors.New("boom")

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// failingSigner signs nothing.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, errBoom }

func mustKey(t testing.TB, kid string, alg key.Algorithm, s crypto.Signer) *jws.Key {
	t.Helper()
	k, err := jws.NewKey(kid, alg, s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
