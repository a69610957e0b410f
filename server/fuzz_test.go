package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-id/signet/server/internal/oauth"
)

func FuzzParseTokenRequest(f *testing.F) {
	for _, s := range []string{
		"grant_type=client_credentials",
		"grant_type=client_credentials&client_id=a&client_secret=b&scope=x+y&resource=r1&resource=r2",
		"grant_type=%zz", "&&&=&=", "scope=%20%20", "a=b=c&grant_type", "resource=" + strings.Repeat("r&resource=", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, e := parseTokenRequest(body)
		if e != nil {
			if e.Code != "invalid_request" || e.Status != http.StatusBadRequest {
				t.Fatalf("unexpected error %+v", e)
			}
			return
		}
		if len(req.resources) > maxResources {
			t.Fatalf("%d resources", len(req.resources))
		}
		if req.hasSecret != (req.clientSecret != "") {
			t.Fatalf("hasSecret %v with secret %q", req.hasSecret, req.clientSecret)
		}
		scopes, se := oauth.ParseScope(req.scope)
		if se == nil {
			for _, s := range scopes {
				if s == "" || strings.ContainsAny(s, " \"\\") {
					t.Fatalf("bad scope token %q", s)
				}
			}
		}
	})
}

// FuzzTokenEndpoint sends arbitrary bodies and Authorization headers
// through the whole handler: it must never panic and always answer with an
// RFC 6749 JSON error or a token.
func FuzzTokenEndpoint(f *testing.F) {
	f.Add("grant_type=client_credentials", "Basic YmlsbGluZzpiaWxsaW5nLXNlY3JldA==")
	f.Add("grant_type=client_credentials&client_id=poster&client_secret=poster-secret&scope=reports.read", "")
	f.Add("grant_type=client_credentials&resource=orders&resource=ledger", "Basic YmlsbGluZzpiaWxsaW5nLXNlY3JldA==")
	f.Add("grant_type=password", "Bearer x")
	f.Add("", "Basic Og==")
	s := newTestServer(f, newFakeKeys(f))
	f.Fuzz(func(t *testing.T, body, auth string) {
		r := httptest.NewRequest("POST", "/connect/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body is not JSON: %q", w.Code, w.Body)
		}
		switch w.Code {
		case 200:
			if out["access_token"] == nil {
				t.Fatalf("200 without a token: %s", w.Body)
			}
		case 400, 401, 413:
			if out["error"] == nil {
				t.Fatalf("%d without error: %s", w.Code, w.Body)
			}
		case 429: // failed client authentications spent a budget (throttle.go)
			if out["error"] != "invalid_client" || w.Header().Get("Retry-After") == "" {
				t.Fatalf("429 without invalid_client or Retry-After: %v %s", w.Header(), w.Body)
			}
		default:
			t.Fatalf("unexpected status %d: %s", w.Code, w.Body)
		}
	})
}

// FuzzParseParams: the form and query parser of the login flows never
// panics, never keeps more than maxParams parameters or an empty value,
// and lists each duplicate once. Seeds are in testdata/fuzz/FuzzParseParams.
func FuzzParseParams(f *testing.F) {
	f.Add("a=1&b=2&a=3")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseParams(s)
		if !ok {
			return
		}
		if len(p.v) > maxParams {
			t.Fatalf("%d parameters kept", len(p.v))
		}
		seen := map[string]bool{}
		for _, d := range p.dups {
			if seen[d] {
				t.Fatalf("duplicate %q listed twice", d)
			}
			seen[d] = true
			if _, ok := p.v[d]; !ok {
				t.Fatalf("duplicate %q has no first value", d)
			}
		}
		for k, v := range p.v {
			if v == "" {
				t.Fatalf("parameter %q kept with an empty value", k)
			}
		}
	})
}
