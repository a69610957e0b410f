package server

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

const spaOrigin = "https://spa.example.com"

// newCORSEnv is a login server whose spa client lists spaOrigin.
func newCORSEnv(t *testing.T) *loginEnv {
	return newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "spa" {
				c.Clients[i].AllowedCORSOrigins = []string{spaOrigin}
			}
		}
	})
}

// corsDo sends method to path with an Origin (none when empty) and extra
// header pairs, and returns the response with its body read.
func corsDo(t *testing.T, e *loginEnv, method, path, origin string, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.issuer+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	p := e.do(nil, req)
	return p.Response, p.body
}

func varies(resp *http.Response, h string) bool {
	for _, v := range resp.Header.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), h) {
				return true
			}
		}
	}
	return false
}

// TestCORSActualRequests: the endpoints a browser app calls with its
// tokens answer an allowed origin with Access-Control-Allow-Origin,
// whatever their status; another origin gets none; every response of
// theirs varies by Origin. Browser navigations and introspection never
// send CORS headers; discovery and the JWKS allow every origin.
func TestCORSActualRequests(t *testing.T) {
	e := newCORSEnv(t)
	for _, c := range []struct {
		method, path, body string
		cors               bool
	}{
		{"POST", PathToken, "grant_type=authorization_code&client_id=spa&code=nope", true},
		{"GET", PathUserinfo, "", true}, // 401 without a token: still readable by the app
		{"POST", PathRevocation, "client_id=spa&token=nope", true},
		{"GET", PathAuthorize, "", false},
		{"POST", PathIntrospect, "token=nope", false},
		{"GET", PathEndSession, "", false},
	} {
		resp, _ := corsDo(t, e, c.method, c.path, spaOrigin, c.body)
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if c.cors && got != spaOrigin {
			t.Errorf("%s %s (status %d): Access-Control-Allow-Origin %q, want %q", c.method, c.path, resp.StatusCode, got, spaOrigin)
		}
		// A browser DPoP client reads the nonce and the challenge.
		if exp := resp.Header.Get("Access-Control-Expose-Headers"); c.cors != (exp == "DPoP-Nonce, WWW-Authenticate") {
			t.Errorf("%s %s: Access-Control-Expose-Headers %q", c.method, c.path, exp)
		}
		if !c.cors && got != "" {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q, want none", c.method, c.path, got)
		}
		if c.cors && !varies(resp, "Origin") {
			t.Errorf("%s %s: Vary %q lacks Origin", c.method, c.path, resp.Header.Values("Vary"))
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s %s allows credentials", c.method, c.path)
		}
		if c.cors {
			other, _ := corsDo(t, e, c.method, c.path, "https://evil.example", c.body)
			if v := other.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("%s %s from another origin: Access-Control-Allow-Origin %q", c.method, c.path, v)
			}
			none, _ := corsDo(t, e, c.method, c.path, "", c.body)
			if !varies(none, "Origin") || none.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s %s without Origin: Vary %q, Access-Control-Allow-Origin %q; want Vary: Origin and none",
					c.method, c.path, none.Header.Values("Vary"), none.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	}
}

func TestCORSPublicMetadata(t *testing.T) {
	e := newCORSEnv(t)
	for _, p := range []string{PathDiscovery, PathJWKS} {
		for _, origin := range []string{spaOrigin, "https://any.example", ""} {
			if resp, _ := corsDo(t, e, "GET", p, origin, ""); resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("GET %s from %q: Access-Control-Allow-Origin %q, want *", p, origin, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
	}
}

func TestCORSPreflight(t *testing.T) {
	e := newCORSEnv(t)
	resp, body := corsDo(t, e, "OPTIONS", PathToken, spaOrigin, "",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if resp.StatusCode != http.StatusNoContent || body != "" ||
		resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, DPoP" ||
		resp.Header.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("token preflight: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = corsDo(t, e, "OPTIONS", PathUserinfo, spaOrigin, "",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST" {
		t.Fatalf("userinfo preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := corsDo(t, e, "OPTIONS", PathRevocation, spaOrigin, "", "Access-Control-Request-Method", "POST"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("revocation preflight: %d", resp.StatusCode)
	}

	resp, body = corsDo(t, e, "OPTIONS", PathToken, "https://evil.example", "", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" ||
		!strings.Contains(body, `origin "https://evil.example" is not allowed: add it to a client's allowedCorsOrigins`) {
		t.Fatalf("preflight from another origin: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = corsDo(t, e, "OPTIONS", PathToken, spaOrigin, "", "Access-Control-Request-Method", "DELETE")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `method "DELETE" is not allowed here; allowed: POST`) {
		t.Fatalf("preflight for DELETE: %d %q", resp.StatusCode, body)
	}
	resp, _ = corsDo(t, e, "OPTIONS", PathUserinfo, "", "")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != "OPTIONS, GET, POST" {
		t.Fatalf("plain OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestCORSOriginsFollowReload: the allowed origins are the current
// clients' (SetClients, as on SIGHUP).
func TestCORSOriginsFollowReload(t *testing.T) {
	e := newCORSEnv(t)
	clients, resources := loginClients(t)
	const moved = "http://localhost:5173"
	i := slices.IndexFunc(clients, func(c Client) bool { return c.ID == "spa" })
	clients[i].AllowedCORSOrigins = []string{moved}
	if err := e.s.SetClients(clients, resources); err != nil {
		t.Fatal(err)
	}
	if resp, _ := corsDo(t, e, "GET", PathUserinfo, spaOrigin, ""); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("a removed origin is still allowed")
	}
	if resp, _ := corsDo(t, e, "GET", PathUserinfo, moved, ""); resp.Header.Get("Access-Control-Allow-Origin") != moved {
		t.Fatal("an added origin is not allowed")
	}
}
