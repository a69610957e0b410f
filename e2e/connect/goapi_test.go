package connect

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/clientcredentials"
)

// TestGoAPI runs examples/connect/goapi (docs/connect/go-api.md) and calls
// it with Signet's access tokens.
func TestGoAPI(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	listen := freeAddr(t)
	s := startSignet(t, guideBlock(t, "go-api"), "http://"+listen)
	p := start(t, "goapi", t.TempDir(), []string{"SIGNET_ISSUER=" + s.issuer, "API_AUDIENCE=orders", "LISTEN=" + listen}, bins["goapi"])
	api := "http://" + listen + "/orders"
	waitHTTP(t, p, api)

	token := func(scope string) string {
		t.Helper()
		cc := clientcredentials.Config{ClientID: "orders-reader", ClientSecret: "orders-reader-demo-secret-change-me",
			TokenURL: s.issuer + "/connect/token", Scopes: []string{scope}}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	call := func(method, bearer string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, api, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
	}

	read := token("orders.read")
	if status, _, body := call("GET", read); status != 200 || !strings.Contains(body, `"sub":"orders-reader"`) || !strings.Contains(body, `"scope":"orders.read"`) {
		t.Errorf("GET with an orders.read token: %d %s", status, body)
	}
	for _, tc := range []struct {
		name, method, token, wantAuth string
		want                          int
	}{
		{"no token", "GET", "", "Bearer", 401},
		{"a token without orders.write", "POST", read, `Bearer error="insufficient_scope", scope="orders.write"`, 403},
		{"a token for another API (aud invoices)", "GET", token("invoices.read"), `Bearer error="invalid_token"`, 401},
		{"a tampered token", "GET", read[:len(read)-4] + "AAAA", `Bearer error="invalid_token"`, 401},
	} {
		if status, auth, body := call(tc.method, tc.token); status != tc.want || auth != tc.wantAuth {
			t.Errorf("%s: %d %q %s, want %d %q", tc.name, status, auth, body, tc.want, tc.wantAuth)
		}
	}
}

// TestGoAPIRotation calls examples/connect/goapi with tokens while Signet
// rotates fast (rotationInterval 3s from a key's creation, propagationTime
// 2s: after the first key a new one signs every second; the JWKS's max-age
// 1 s): every token must be accepted, across at least two rotations. A key cache that ignored max-age and only refetched on an
// unknown kid (at most every 10 s) would refuse the tokens of a key that
// began signing within 10 s of its last fetch.
func TestGoAPIRotation(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	listen := freeAddr(t)
	s := startSignetWith(t, guideBlock(t, "go-api"), "http://"+listen, `keyManagement:
  signingAlgorithms: [ ES256 ]
  rotationInterval: 3s
  propagationTime: 2s
  retentionDuration: 1h
`, "--unsafe-timing")
	p := start(t, "goapi", t.TempDir(), []string{"SIGNET_ISSUER=" + s.issuer, "API_AUDIENCE=orders", "LISTEN=" + listen}, bins["goapi"])
	api := "http://" + listen + "/orders"
	waitHTTP(t, p, api)

	cc := clientcredentials.Config{ClientID: "orders-reader", ClientSecret: "orders-reader-demo-secret-change-me",
		TokenURL: s.issuer + "/connect/token", Scopes: []string{"orders.read"}}
	kids := map[string]bool{}
	calls := 0
	for deadline := time.Now().Add(7500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", api, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		kid := kidOf(t, tok.AccessToken)
		if resp.StatusCode != 200 {
			t.Fatalf("a token of key %s (keys so far %v) refused: %d %s", kid, kids, resp.StatusCode, body)
		}
		kids[kid] = true
		calls++
	}
	if len(kids) < 3 {
		t.Errorf("%d calls with tokens of %d keys, want at least 3 keys (two rotations)", calls, len(kids))
	}
	t.Logf("%d calls accepted, tokens of %d keys", calls, len(kids))
}

// kidOf returns the kid of a JWS's header.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return sig.Signatures[0].Header.KeyID
}
