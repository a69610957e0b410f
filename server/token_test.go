package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

func TestTokenSuccess(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	es := keys.keys[key.ES256].Public()
	ed := keys.keys[key.EdDSA].Public()

	for _, tc := range []struct {
		name     string
		form     url.Values
		basic    [2]string
		pub      any
		kid      string
		aud      string
		scope    string
		lifetime int64
		allowed  []key.Algorithm
		sub      string
	}{
		{
			name: "basic, default scopes", form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{"billing", "billing-secret"},
			pub: ed, kid: "ed-1", aud: `["orders","reports","ledger"]`, scope: "orders.read orders.write reports.read ledger.read", lifetime: 3600,
			allowed: []key.Algorithm{key.EdDSA}, sub: "billing",
		},
		{
			name: "post, default scopes, no restriction", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"poster"}, "client_secret": {"poster-secret"}},
			pub: es, kid: "es-1", aud: `"reports"`, scope: "reports.read", lifetime: 300, allowed: []key.Algorithm{}, sub: "poster",
		},
		{
			name: "basic with client_id repeated in the body", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"poster"}}, basic: [2]string{"poster", "poster-secret"},
			pub: es, kid: "es-1", aud: `"reports"`, scope: "reports.read", lifetime: 300, allowed: []key.Algorithm{}, sub: "poster",
		},
		{
			name: "requested scope subset", form: url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}, basic: [2]string{"billing", "billing-secret"},
			pub: es, kid: "es-1", aud: `"reports"`, scope: "reports.read", lifetime: 3600, allowed: []key.Algorithm{}, sub: "billing",
		},
		{
			name: "duplicate and extra spaces in scope", form: url.Values{"grant_type": {"client_credentials"}, "scope": {" orders.read  orders.read "}}, basic: [2]string{"billing", "billing-secret"},
			pub: ed, kid: "ed-1", aud: `"orders"`, scope: "orders.read", lifetime: 3600, allowed: []key.Algorithm{key.EdDSA}, sub: "billing",
		},
		{
			name: "resource selects audience and scopes", form: url.Values{"grant_type": {"client_credentials"}, "resource": {"orders"}}, basic: [2]string{"billing", "billing-secret"},
			pub: ed, kid: "ed-1", aud: `"orders"`, scope: "orders.read orders.write", lifetime: 3600, allowed: []key.Algorithm{key.EdDSA}, sub: "billing",
		},
		{
			name: "two resources", form: url.Values{"grant_type": {"client_credentials"}, "resource": {"reports", "orders"}, "scope": {"orders.read reports.read"}}, basic: [2]string{"billing", "billing-secret"},
			pub: ed, kid: "ed-1", aud: `["reports","orders"]`, scope: "orders.read reports.read", lifetime: 3600, allowed: []key.Algorithm{key.EdDSA}, sub: "billing",
		},
		{
			name: "intersection of two restrictions", form: url.Values{"grant_type": {"client_credentials"}, "resource": {"ledger", "orders"}}, basic: [2]string{"billing", "billing-secret"},
			pub: ed, kid: "ed-1", aud: `["ledger","orders"]`, scope: "orders.read orders.write ledger.read", lifetime: 3600, allowed: []key.Algorithm{key.EdDSA}, sub: "billing",
		},
		{
			name: "first credential whose algorithm is allowed", form: url.Values{"grant_type": {"client_credentials"}, "resource": {"ledger"}}, basic: [2]string{"billing", "billing-secret"},
			pub: es, kid: "es-1", aud: `"ledger"`, scope: "ledger.read", lifetime: 3600, allowed: []key.Algorithm{key.ES256, key.EdDSA}, sub: "billing",
		},
		{
			name: "form-encoded Basic credentials", form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{"weird id:+%", "p@ss w:rd+%"},
			pub: es, kid: "es-1", aud: `"reports"`, scope: "reports.read", lifetime: 3600, allowed: []key.Algorithm{}, sub: "weird id:+%",
		},
		{
			name: "mixed client restricted to one resource", form: url.Values{"grant_type": {"client_credentials"}, "scope": {"orders.read"}}, basic: [2]string{"mixed", "mixed-secret"},
			pub: ed, kid: "ed-1", aud: `"orders"`, scope: "orders.read", lifetime: 3600, allowed: []key.Algorithm{key.EdDSA}, sub: "mixed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(s, tc.form, tc.basic)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			for h, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
				if got := w.Header().Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			resp := decode[tokenResponse](t, w.Body.Bytes())
			if resp.TokenType != "Bearer" || resp.ExpiresIn != tc.lifetime || resp.Scope != tc.scope {
				t.Errorf("response = %+v", resp)
			}
			hdr, c := verify(t, resp.AccessToken, tc.pub)
			if hdr.KeyID != tc.kid || hdr.ExtraHeaders["typ"] != "at+jwt" {
				t.Errorf("header kid=%q typ=%v, want %q at+jwt", hdr.KeyID, hdr.ExtraHeaders["typ"], tc.kid)
			}
			if c.Iss != "https://login.example.com" || c.Sub != tc.sub || c.ClientID != tc.sub || string(c.Aud) != tc.aud || c.Scope != tc.scope {
				t.Errorf("claims = %+v (aud %s)", c, c.Aud)
			}
			if c.Iat != testNow.Unix() || c.Nbf != c.Iat || c.Exp != c.Iat+tc.lifetime {
				t.Errorf("times iat=%d nbf=%d exp=%d", c.Iat, c.Nbf, c.Exp)
			}
			if b, err := base64.RawURLEncoding.DecodeString(c.Jti); err != nil || len(b) != 16 {
				t.Errorf("jti %q is not 128 bits of base64url", c.Jti)
			}
			keys.mu.Lock()
			allowed := keys.lastAllowed
			keys.mu.Unlock()
			if !slices.Equal(allowed, tc.allowed) {
				t.Errorf("SigningKey(%v), want %v", allowed, tc.allowed)
			}
		})
	}
}

func TestTokenIDsUnique(t *testing.T) {
	s := newTestServer(t, newFakeKeys(t))
	seen := map[string]bool{}
	for range 50 {
		w := post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"poster", "poster-secret"})
		tok := decode[tokenResponse](t, w.Body.Bytes()).AccessToken
		parts := strings.Split(tok, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		jti := decode[claims](t, payload).Jti
		if seen[jti] {
			t.Fatalf("jti %s repeated", jti)
		}
		seen[jti] = true
	}
}

func TestTokenErrors(t *testing.T) {
	form := func(kv ...string) string {
		var b strings.Builder
		for i := 0; i+1 < len(kv); i += 2 {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(kv[i] + "=" + kv[i+1])
		}
		return b.String()
	}
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	cc := "client_credentials"
	billing := basic("billing", "billing-secret")
	for _, tc := range []struct {
		name        string
		method      string // default POST
		path        string // default /connect/token
		contentType string // default form; "-" for none
		auth        string
		body        string
		keys        func(*fakeKeys)
		status      int
		code        string
		desc        string
		challenge   bool
	}{
		{name: "GET", method: "GET", status: 405, code: "invalid_request", desc: "accepts POST only"},
		{name: "PUT", method: "PUT", auth: billing, body: form("grant_type", cc), status: 405, code: "invalid_request", desc: "accepts POST only"},
		{name: "no content type", contentType: "-", auth: billing, body: form("grant_type", cc), status: 415, code: "invalid_request", desc: "application/x-www-form-urlencoded"},
		{name: "JSON body", contentType: "application/json", auth: billing, body: `{"grant_type":"client_credentials"}`, status: 415, code: "invalid_request", desc: "application/x-www-form-urlencoded"},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", auth: billing, body: "--x--", status: 415, code: "invalid_request"},
		{name: "bad content type", contentType: "application/x-www-form-urlencoded; =", auth: billing, body: form("grant_type", cc), status: 415, code: "invalid_request"},
		{name: "query parameters", path: "/connect/token?client_secret=x", auth: billing, body: form("grant_type", cc), status: 400, code: "invalid_request", desc: "not the URL query"},
		{name: "body too large", auth: billing, body: form("grant_type", cc, "pad", strings.Repeat("a", 70<<10)), status: 413, code: "invalid_request", desc: "too large"},
		{name: "bad percent encoding", auth: billing, body: "grant_type=client%zzcredentials", status: 400, code: "invalid_request", desc: "not valid application/x-www-form-urlencoded"},
		{name: "bad percent encoding in key", auth: billing, body: "gr%zz=1&grant_type=" + cc, status: 400, code: "invalid_request"},
		{name: "no grant_type", auth: billing, body: form("scope", "orders.read"), status: 400, code: "invalid_request", desc: "grant_type is missing"},
		{name: "empty grant_type", auth: billing, body: form("grant_type", ""), status: 400, code: "invalid_request", desc: "grant_type is missing"},
		{name: "empty body", auth: billing, body: "", status: 400, code: "invalid_request", desc: "grant_type is missing"},
		{name: "repeated grant_type", auth: billing, body: form("grant_type", cc, "grant_type", cc), status: 400, code: "invalid_request", desc: "grant_type appears more than once"},
		{name: "repeated scope", auth: billing, body: form("grant_type", cc, "scope", "a", "scope", "b"), status: 400, code: "invalid_request", desc: "scope appears more than once"},
		{name: "repeated client_secret", body: form("grant_type", cc, "client_id", "poster", "client_secret", "poster-secret", "client_secret", "x"), status: 400, code: "invalid_request", desc: "client_secret appears more than once"},
		{name: "no client authentication", body: form("grant_type", cc), status: 401, code: "invalid_client", desc: "no client authentication", challenge: true},
		{name: "client_id only", body: form("grant_type", cc, "client_id", "poster"), status: 401, code: "invalid_client", desc: "no client authentication", challenge: true},
		{name: "unknown client post", body: form("grant_type", cc, "client_id", "nobody", "client_secret", "x"), status: 401, code: "invalid_client", desc: "client authentication failed", challenge: true},
		{name: "unknown client basic", auth: basic("nobody", "x"), body: form("grant_type", cc), status: 401, code: "invalid_client", desc: "client authentication failed", challenge: true},
		{name: "wrong secret basic", auth: basic("billing", "billing-secreT"), body: form("grant_type", cc), status: 401, code: "invalid_client", desc: "client authentication failed", challenge: true},
		{name: "wrong secret post", body: form("grant_type", cc, "client_id", "poster", "client_secret", "poster"), status: 401, code: "invalid_client", desc: "client authentication failed", challenge: true},
		{name: "empty secret basic", auth: basic("billing", ""), body: form("grant_type", cc), status: 401, code: "invalid_client", challenge: true},
		{name: "bearer scheme", auth: "Bearer abc", body: form("grant_type", cc), status: 401, code: "invalid_client", desc: "unsupported Authorization scheme", challenge: true},
		{name: "malformed basic", auth: "Basic %%%", body: form("grant_type", cc), status: 401, code: "invalid_client", desc: "malformed Basic credentials", challenge: true},
		{name: "basic without colon", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("billing")), body: form("grant_type", cc), status: 401, code: "invalid_client", challenge: true},
		{name: "basic and post", auth: billing, body: form("grant_type", cc, "client_id", "billing", "client_secret", "billing-secret"), status: 400, code: "invalid_request", desc: "authenticated twice"},
		{name: "basic and other client_id", auth: billing, body: form("grant_type", cc, "client_id", "poster"), status: 400, code: "invalid_request", desc: "differs from the Basic credentials"},
		{name: "secret without client_id", body: form("grant_type", cc, "client_secret", "poster-secret"), status: 400, code: "invalid_request", desc: "without client_id"},
		{name: "password grant", auth: billing, body: form("grant_type", "password", "username", "a", "password", "b"), status: 400, code: "unsupported_grant_type", desc: "grant type 'password' is not supported"},
		{name: "quote in grant type", auth: billing, body: form("grant_type", `x%22y%5Cz%0A`), status: 400, code: "unsupported_grant_type", desc: "grant type 'x?y?z?' is not supported"},
		{name: "client without the grant", auth: basic("nogrant", "nogrant-secret"), body: form("grant_type", cc), status: 400, code: "unauthorized_client", desc: "may not use the client_credentials grant"},
		{name: "scope not allowed", auth: billing, body: form("grant_type", cc, "scope", "inventory.read"), status: 400, code: "invalid_scope", desc: "scope 'inventory.read' is not allowed for this client"},
		{name: "unknown scope", auth: billing, body: form("grant_type", cc, "scope", "orders.read+admin"), status: 400, code: "invalid_scope", desc: "scope 'admin' is not allowed"},
		{name: "invalid scope character", auth: billing, body: form("grant_type", cc, "scope", "orders.read%22"), status: 400, code: "invalid_scope", desc: "invalid character"},
		{name: "client with no scopes", auth: basic("noscope", "noscope-secret"), body: form("grant_type", cc), status: 400, code: "invalid_scope", desc: "no scope to grant"},
		{name: "unknown resource", auth: billing, body: form("grant_type", cc, "resource", "https%3A%2F%2Fevil.example"), status: 400, code: "invalid_target", desc: "resource 'https://evil.example' is unknown"},
		{name: "resource not allowed", auth: billing, body: form("grant_type", cc, "resource", "inventory"), status: 400, code: "invalid_target", desc: "may not request resource 'inventory'"},
		{name: "scope outside the resource", auth: billing, body: form("grant_type", cc, "resource", "orders", "scope", "reports.read"), status: 400, code: "invalid_scope", desc: "does not belong to the requested resources"},
		{name: "resource without a requested scope", auth: billing, body: form("grant_type", cc, "resource", "orders", "resource", "reports", "scope", "orders.read"), status: 400, code: "invalid_target", desc: "may not request resource 'reports'"},
		{name: "no common algorithm (default scopes)", auth: basic("mixed", "mixed-secret"), body: form("grant_type", cc), status: 400, code: "invalid_target", desc: "orders, inventory allow no common signing algorithm"},
		{name: "no common algorithm (resources)", auth: basic("mixed", "mixed-secret"), body: form("grant_type", cc, "resource", "inventory", "resource", "orders"), status: 400, code: "invalid_target", desc: "allow no common signing algorithm"},
		{name: "no key for the allowed algorithm", auth: basic("rsaonly", "rsaonly-secret"), body: form("grant_type", cc), status: 400, code: "invalid_target", desc: "no signing key for the algorithms"},
		{name: "keys not ready", auth: billing, body: form("grant_type", cc), keys: func(f *fakeKeys) { f.signErr = fmt.Errorf("%w: loading", keymanager.ErrNotReady) }, status: 503, code: "temporarily_unavailable", desc: "retry shortly"},
		{name: "signer fails", auth: billing, body: form("grant_type", cc), keys: func(f *fakeKeys) {
			f.keys[key.EdDSA] = mustKey(t, "bad", key.EdDSA, failingSigner{f.keys[key.EdDSA].Signer()})
		}, status: 500, code: "server_error", desc: "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := newFakeKeys(t)
			if tc.keys != nil {
				tc.keys(keys)
			}
			s := newTestServer(t, keys)
			method, path := cmpOr(tc.method, "POST"), cmpOr(tc.path, "/connect/token")
			r := httptest.NewRequest(method, path, strings.NewReader(tc.body))
			switch tc.contentType {
			case "":
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			case "-":
			default:
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			e := decode[errorResponse](t, w.Body.Bytes())
			if e.Error != tc.code || !strings.Contains(e.Description, tc.desc) {
				t.Errorf("error = %q %q, want %q containing %q", e.Error, e.Description, tc.code, tc.desc)
			}
			for _, c := range e.Description {
				if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
					t.Errorf("error_description has %q, outside RFC 6749's character set", c)
				}
			}
			for h, want := range map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"} {
				if got := w.Header().Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if got := w.Header().Get("WWW-Authenticate"); (got != "") != tc.challenge || (tc.challenge && !strings.HasPrefix(got, `Basic realm="signet"`)) {
				t.Errorf("WWW-Authenticate = %q, challenge wanted: %v", got, tc.challenge)
			}
			if tc.status == 503 && w.Header().Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q on 503", w.Header().Get("Retry-After"))
			}
			if tc.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", w.Header().Get("Allow"))
			}
		})
	}
}

// A chunked body (no Content-Length) over the limit is refused too.
func TestTokenBodyLimitChunked(t *testing.T) {
	s := newTestServer(t, newFakeKeys(t))
	r := httptest.NewRequest("POST", "/connect/token", strings.NewReader("grant_type=client_credentials&pad="+strings.Repeat("a", DefaultMaxBodyBytes)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", w.Code)
	}
	// Just under the limit is fine.
	body := "grant_type=client_credentials&client_id=poster&client_secret=poster-secret&pad="
	body += strings.Repeat("a", DefaultMaxBodyBytes-len(body))
	r = httptest.NewRequest("POST", "/connect/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	w = httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d at the limit: %s", w.Code, w.Body)
	}
}

func TestPanicRecovered(t *testing.T) {
	keys := newFakeKeys(t)
	keys.panicSign = true
	logs := &lockedBuffer{}
	clients, resources := testClients(t)
	s, err := New(Config{Issuer: "https://login.example.com", Keys: keys, Clients: clients, APIResources: resources, Logger: testLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	w := post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"billing", "billing-secret"})
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "secret panic detail") || strings.Contains(w.Body.String(), "goroutine") {
		t.Errorf("the response shows the panic: %s", w.Body)
	}
	if e := decode[errorResponse](t, w.Body.Bytes()); e.Error != "server_error" {
		t.Errorf("error = %q", e.Error)
	}
	if !strings.Contains(logs.String(), "secret panic detail") {
		t.Errorf("the log lacks the panic: %s", logs)
	}
}

func TestSetClients(t *testing.T) {
	keys := newFakeKeys(t)
	s := newTestServer(t, keys)
	if w := post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"newbie", "newbie-secret"}); w.Code != 401 {
		t.Fatalf("unknown client got %d", w.Code)
	}
	err := s.SetClients([]Client{{ID: "newbie", Secrets: []*clientauth.Secret{secret(t, "plain:newbie-secret")}, GrantTypes: []string{"client_credentials"}, Scopes: []string{"x.read"}, AccessTokenLifetime: time.Minute}},
		[]APIResource{{Name: "x", Scopes: []string{"x.read"}}})
	if err != nil {
		t.Fatal(err)
	}
	if w := post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"newbie", "newbie-secret"}); w.Code != 200 {
		t.Fatalf("new client got %d: %s", w.Code, w.Body)
	}
	if w := post(s, url.Values{"grant_type": {"client_credentials"}}, [2]string{"billing", "billing-secret"}); w.Code != 401 {
		t.Fatalf("removed client got %d", w.Code)
	}
	if !strings.Contains(string(s.discoveryBody()), `"scopes_supported":["x.read"]`) {
		t.Errorf("discovery not updated: %s", s.discoveryBody())
	}
	for _, bad := range [][]Client{
		{{ID: "", AccessTokenLifetime: time.Hour}},
		{{ID: "a", AccessTokenLifetime: time.Hour}, {ID: "a", AccessTokenLifetime: time.Hour}},
		{{ID: "a", AccessTokenLifetime: time.Millisecond}},
		{{ID: "a", AccessTokenLifetime: time.Hour, Scopes: []string{"nope"}}},
	} {
		if err := s.SetClients(bad, nil); err == nil {
			t.Errorf("SetClients(%+v) accepted", bad)
		}
	}
}
