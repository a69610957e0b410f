package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signet-id/signet/clientauth"
)

// syncBuffer is a buffer safe for concurrent writes (logs).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is a server started in-process by serve, the same code path
// as the binary.
type instance struct {
	addr      string
	adminAddr string // "" without adminListen
	base      string // http://addr
	issuer    string
	stdout    *syncBuffer
	logs      *syncBuffer
	reload    chan os.Signal
	cancel    context.CancelFunc
	done      chan error
	stopped   bool
}

// startServe runs serve with o until the test ends (or stop is called).
func startServe(t *testing.T, o serveOptions, vars map[string]string) *instance {
	t.Helper()
	if o.logFormat == "" {
		o.logFormat, o.logLevel = "text", "debug"
	}
	if o.shutdownTimeout == 0 {
		o.shutdownTimeout = 5 * time.Second
	}
	in := &instance{stdout: &syncBuffer{}, logs: &syncBuffer{}, reload: make(chan os.Signal, 1), done: make(chan error, 1)}
	started := make(chan startedInfo, 1)
	e := &env{
		stdin:     strings.NewReader(""),
		stdout:    in.stdout,
		stderr:    in.logs,
		lookupEnv: func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
		started:   func(si startedInfo) { started <- si },
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { in.done <- serve(ctx, &o, e, in.reload) }()
	select {
	case si := <-started:
		in.addr, in.issuer, in.base, in.adminAddr = si.Addr, si.Issuer, "http://"+si.Addr, si.AdminAddr
	case err := <-in.done:
		cancel()
		t.Fatalf("serve failed to start: %v\nlogs:\n%s", err, in.logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start\nlogs:\n%s", in.logs)
	}
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop shuts the server down gracefully and checks it returned nil.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if in.stopped {
		return
	}
	in.stopped = true
	in.cancel()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("serve returned %v\nlogs:\n%s", err, in.logs)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("serve did not stop")
	}
	if t.Failed() {
		t.Logf("server logs:\n%s", in.logs)
	}
}

func (in *instance) jwksURL() string { return in.base + "/.well-known/openid-configuration/jwks" }

// token gets an access token with golang.org/x/oauth2's client credentials flow.
func (in *instance) token(ctx context.Context, id, secret string, style oauth2.AuthStyle, scopes []string, params url.Values) (string, error) {
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: in.base + "/connect/token", Scopes: scopes, EndpointParams: params, AuthStyle: style}
	tok, err := cc.Token(ctx)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// tokenClaims are the RFC 9068 claims checked by the tests.
type tokenClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Jti      string `json:"jti"`
	Exp      int64  `json:"exp"`
}

// verifyWith checks a token's signature with an independent relying party
// (go-oidc's RemoteKeySet, which refetches the JWKS on an unknown kid).
func verifyWith(ctx context.Context, ks *oidc.RemoteKeySet, token string) (tokenClaims, error) {
	payload, err := ks.VerifySignature(ctx, token)
	if err != nil {
		return tokenClaims{}, err
	}
	var c tokenClaims
	err = json.Unmarshal(payload, &c)
	return c, err
}

// kidOf returns the kid in a token's header (unverified).
func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct{ Kid, Typ, Alg string }
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Typ != "at+jwt" {
		t.Errorf("typ = %q", hdr.Typ)
	}
	return hdr.Kid
}

// jwksKids returns the kids in the live JWKS.
func jwksKids(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeECKey writes a new P-256 private key as PKCS#8 PEM.
func writeECKey(t *testing.T, dir, name string) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	writeFile(t, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	return k
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

const testSecret = "e2e-client-secret-0123456789abcdef"

// clientsYAML is a client and API resources for the e2e configurations;
// ledgerAlgs restricts the ledger resource's algorithms.
func clientsYAML(ledgerAlgs string) string {
	return fmt.Sprintf(`
apiResources:
  - { name: orders, scopes: [orders.read, orders.write] }
  - { name: ledger, scopes: [ledger.read], allowedAccessTokenSigningAlgorithms: [%s] }
clients:
  - clientId: billing
    secrets: [ "%s" ]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [orders.read, orders.write, ledger.read]
    accessTokenLifetime: 10m
`, ledgerAlgs, clientauth.HashSHA256(testSecret))
}
