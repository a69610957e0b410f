package connect

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

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
