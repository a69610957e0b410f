package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
)

// BenchmarkToken measures the whole token path in-process (no network),
// to compare with BenchmarkSignOnly: the difference is the server's own cost.
func BenchmarkToken(b *testing.B) {
	for _, alg := range []key.Algorithm{key.ES256, key.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			keys := newFakeKeys(b)
			keys.order = []key.Algorithm{alg}
			s := newTestServer(b, keys)
			const body = "grant_type=client_credentials"
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.Header.Set("Authorization", "Basic cG9zdGVyOnBvc3Rlci1zZWNyZXQ=") // poster:poster-secret
					w := httptest.NewRecorder()
					s.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}

// BenchmarkSignOnly is the raw signature cost of the same payload size.
func BenchmarkSignOnly(b *testing.B) {
	for _, alg := range []key.Algorithm{key.ES256, key.EdDSA} {
		b.Run(string(alg), func(b *testing.B) {
			k := newFakeKeys(b).keys[alg]
			payload := []byte(`{"iss":"https://login.example.com","exp":1700003600,"aud":"reports","sub":"poster","client_id":"poster","iat":1700000000,"nbf":1700000000,"jti":"AAAAAAAAAAAAAAAAAAAAAA","scope":"reports.read"}`)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := k.Sign("at+jwt", payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// benchAlgs are the algorithms of the load benchmark (bench/).
var benchAlgs = []key.Algorithm{key.RS256, key.PS256, key.ES256, key.EdDSA}

// newBenchServer returns a server backed by a real key manager (memory
// store) signing with every benchmark algorithm, each selected by the
// scope "<alg>" of the resource "api-<alg>", like bench/ configures
// signet serve. factory, when set, wraps the loaded keys.
func newBenchServer(b *testing.B, factory keymanager.SignerFactory) *Server {
	b.Helper()
	opts := key.DefaultOptions()
	opts.ProtectKeys = false
	opts.SigningAlgorithms = nil
	var resources []APIResource
	var scopes []string
	for _, a := range benchAlgs {
		opts.SigningAlgorithms = append(opts.SigningAlgorithms, key.AlgorithmOptions{Algorithm: a})
		sc := strings.ToLower(string(a))
		resources = append(resources, APIResource{Name: "api-" + sc, Scopes: []string{sc}, AllowedSigningAlgorithms: []key.Algorithm{a}})
		scopes = append(scopes, sc)
	}
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: memstore.New(), SignerFactory: factory})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{
		Issuer:       "https://login.example.com",
		Keys:         m,
		Clients:      []Client{{ID: "bench", Secrets: []*clientauth.Secret{secret(b, clientauth.HashSHA256("bench-secret"))}, GrantTypes: []string{"client_credentials"}, Scopes: scopes, AccessTokenLifetime: time.Hour}},
		APIResources: resources,
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// reusableBody is a request body that can be rewound without allocating.
type reusableBody struct{ strings.Reader }

func (*reusableBody) Close() error { return nil }

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, reused across requests.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}

// tokenCaller sends one client_credentials request for an algorithm's
// scope, reusing its request and writer, so allocs/op are the server's
// own allocations per token. One per goroutine.
type tokenCaller struct {
	form string
	body *reusableBody
	r    *http.Request
	w    *discardWriter
}

func newTokenCaller(alg key.Algorithm) *tokenCaller {
	c := &tokenCaller{form: "grant_type=client_credentials&scope=" + strings.ToLower(string(alg)), body: &reusableBody{}, w: &discardWriter{h: http.Header{}}}
	c.r = httptest.NewRequest(http.MethodPost, "/connect/token", nil)
	c.r.Body = c.body
	c.r.ContentLength = int64(len(c.form))
	c.r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("bench:bench-secret")))
	return c
}

// call serves one request and returns its status.
func (c *tokenCaller) call(s *Server) int {
	c.body.Reset(c.form)
	clear(c.w.h)
	c.w.status, c.w.n = 0, 0
	s.ServeHTTP(c.w, c.r)
	return c.w.status
}

// serveTokens runs b.N token requests for alg through the whole handler
// (middleware, mux, token endpoint), one at a time.
func serveTokens(b *testing.B, s *Server, alg key.Algorithm) {
	c := newTokenCaller(alg)
	b.ReportAllocs()
	for b.Loop() {
		if st := c.call(s); st != http.StatusOK {
			b.Fatalf("status %d", st)
		}
	}
	b.ReportMetric(float64(c.w.n), "resp-bytes")
}

// serveTokensParallel is serveTokens from GOMAXPROCS goroutines (-cpu):
// with -mutexprofile and -blockprofile it shows what the requests wait
// for from one another, and ns/op at -cpu 1 and 2 the scaling.
func serveTokensParallel(b *testing.B, s *Server, alg key.Algorithm) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := newTokenCaller(alg)
		for pb.Next() {
			if st := c.call(s); st != http.StatusOK {
				b.Errorf("status %d", st)
				return
			}
		}
	})
}

// BenchmarkTokenHandler is one client_credentials token per op through
// the whole handler, signature included, with the real key manager.
func BenchmarkTokenHandler(b *testing.B) {
	s := newBenchServer(b, nil)
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) { serveTokens(b, s, alg) })
	}
}

// BenchmarkTokenHandlerParallel is BenchmarkTokenHandler with requests in
// parallel, one goroutine per -cpu.
func BenchmarkTokenHandlerParallel(b *testing.B) {
	s := newBenchServer(b, nil)
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) { serveTokensParallel(b, s, alg) })
	}
}

// BenchmarkTokenHandlerNoSign is BenchmarkTokenHandler with signers that
// return a canned signature at once: what the server spends per token
// besides the signature (client authentication, grant, claims, JWS
// encoding, response, metrics).
func BenchmarkTokenHandlerNoSign(b *testing.B) {
	s := newBenchServer(b, func(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
		return newCannedSigner(alg, priv)
	})
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) { serveTokens(b, s, alg) })
	}
}

// BenchmarkTokenHandlerNoSignParallel is BenchmarkTokenHandlerNoSign with
// requests in parallel: without the signature, what little the server
// does besides is where contention between requests would show.
func BenchmarkTokenHandlerNoSignParallel(b *testing.B) {
	s := newBenchServer(b, func(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
		return newCannedSigner(alg, priv)
	})
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) { serveTokensParallel(b, s, alg) })
	}
}

// cannedSigner returns one real signature, made once, every time.
type cannedSigner struct {
	pub crypto.PublicKey
	sig []byte
}

func newCannedSigner(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error) {
	msg := []byte("canned")
	var opts crypto.SignerOpts = crypto.Hash(0)
	if alg != key.EdDSA {
		sum := sha256.Sum256(msg)
		msg, opts = sum[:], crypto.SHA256
		if alg.Family() == key.FamilyRSAPSS {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		}
	}
	sig, err := priv.Sign(rand.Reader, msg, opts)
	return cannedSigner{pub: priv.Public(), sig: sig}, err
}

func (c cannedSigner) Public() crypto.PublicKey { return c.pub }
func (c cannedSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return c.sig, nil
}

// BenchmarkTokenDPoP is BenchmarkToken's ES256 client_credentials token
// without and with a DPoP proof (ES256) in one run: the difference is
// the proof's verification and its jti record in the grant store. The
// client's cost of making each proof is outside the timer.
func BenchmarkTokenDPoP(b *testing.B) {
	keys := newFakeKeys(b)
	keys.order = []key.Algorithm{key.ES256}
	clients, resources := testClients(b)
	s, err := New(Config{Issuer: "https://login.example.com", Keys: keys, Clients: clients, APIResources: resources,
		Grants: memstore.New(), Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p, err := dpop.NewProver(ec, "ES256", func() time.Time { return testNow })
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"plain", "dpop"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				r := httptest.NewRequest(http.MethodPost, "/connect/token", strings.NewReader("grant_type=client_credentials"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Authorization", "Basic cG9zdGVyOnBvc3Rlci1zZWNyZXQ=") // poster:poster-secret
				if mode == "dpop" {
					b.StopTimer()
					proof, err := p.Proof("POST", "https://login.example.com/connect/token", dpop.ProofOptions{})
					if err != nil {
						b.Fatal(err)
					}
					r.Header.Set("DPoP", proof)
					b.StartTimer()
				}
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
