package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-id/signet/keystore/memstore"
)

func newFuzzLoginServer(f *testing.F) *Server {
	clients, resources := loginClients(f)
	s, err := New(Config{Issuer: "https://login.example.com", Keys: newFakeKeys(f), Clients: clients, APIResources: resources,
		Grants: memstore.New(), Users: loginUsers(f)})
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzParseAuthorizeRequest: parsing and checking never panic, and a
// request that passes survives the round trip through the login form.
func FuzzParseAuthorizeRequest(f *testing.F) {
	f.Add(spaRequest().Encode())
	f.Add(spaRequest("prompt", "none login", "max_age", "99999999999999999999").Encode())
	f.Add("client_id=spa&client_id=spa&redirect_uri=%zz")
	f.Add("response_type=code&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb&scope=openid&request=x")
	f.Add("&&=&==&scope=%20%20openid%20&state=" + strings.Repeat("s", 3000))
	s := newFuzzLoginServer(f)
	f.Fuzz(func(t *testing.T, raw string) {
		a, ok := parseAuthorizeRequest(raw)
		if !ok {
			return
		}
		req, e := s.checkAuthorize(s.reg.Load(), a)
		if e != nil {
			if e.code == "" || e.desc == "" {
				t.Fatalf("empty error %+v", e)
			}
			return
		}
		if req.client == nil || req.login == nil || len(req.scopes) == 0 || req.responseType != "code" {
			t.Fatalf("accepted %+v", req)
		}
		b, ok := parseAuthorizeRequest(req.encode())
		if !ok || b != a {
			t.Fatalf("round trip:\n%+v\n%+v", a, b)
		}
	})
}

// FuzzParseUserTokenRequest: the authorization_code and refresh_token
// body parser never panics and refuses duplicates.
func FuzzParseUserTokenRequest(f *testing.F) {
	f.Add("grant_type=authorization_code&code=c&redirect_uri=https%3A%2F%2Fa&code_verifier=v&client_id=spa")
	f.Add("grant_type=refresh_token&refresh_token=r&scope=openid&scope=x")
	f.Add("code=%zz")
	f.Add(strings.Repeat("a=b&", 70))
	f.Fuzz(func(t *testing.T, body string) {
		req, e := parseUserTokenRequest(body)
		if e != nil {
			if e.Code != "invalid_request" || e.Status != http.StatusBadRequest {
				t.Fatalf("unexpected error %+v", e)
			}
			return
		}
		if req.hasSecret != (req.clientSecret != "") {
			t.Fatalf("hasSecret %v with %q", req.hasSecret, req.clientSecret)
		}
	})
}

// FuzzLoginEndpoints sends arbitrary requests to the authorization, login
// and token endpoints: never a panic, never a 5xx, always the RFC's form
// of error (a redirect, an HTML page, or a JSON error).
func FuzzLoginEndpoints(f *testing.F) {
	f.Add(uint8(0), spaRequest().Encode(), "")
	f.Add(uint8(1), spaRequest().Encode(), "request=x&csrf=y&username=alice&password=p")
	f.Add(uint8(2), "", "grant_type=authorization_code&client_id=spa&code=abc&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb&code_verifier="+verifierForSPA)
	f.Add(uint8(2), "", "grant_type=refresh_token&client_id=spa&refresh_token=abc")
	f.Add(uint8(3), "id_token_hint=a.b.c&post_logout_redirect_uri=https%3A%2F%2Fspa.example.com%2Fbye", "")
	f.Add(uint8(4), "", "token=abc&token_type_hint=refresh_token&client_id=spa")
	s := newFuzzLoginServer(f)
	f.Fuzz(func(t *testing.T, which uint8, query, body string) {
		var r *http.Request
		switch which % 5 {
		case 0:
			r = httptest.NewRequest("GET", PathAuthorize+"?"+url.PathEscape(query), nil)
			r.URL.RawQuery = query
		case 1:
			r = httptest.NewRequest("POST", PathLogin, strings.NewReader(body))
		case 2:
			r = httptest.NewRequest("POST", PathToken, strings.NewReader(body))
		case 3:
			r = httptest.NewRequest("GET", PathEndSession, nil)
			r.URL.RawQuery = query
		case 4:
			r = httptest.NewRequest("POST", PathRevocation, strings.NewReader(body))
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		ct := w.Header().Get("Content-Type")
		switch {
		case w.Code >= 500:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		case w.Code == 302 || w.Code == 303:
			if w.Header().Get("Location") == "" {
				t.Fatal("redirect without Location")
			}
		case strings.HasPrefix(ct, "text/html"):
			if strings.Contains(w.Body.String(), "goroutine") {
				t.Fatalf("internals on a page: %s", w.Body)
			}
		case ct == "application/json":
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || (w.Code >= 400 && m["error"] == nil) {
				t.Fatalf("status %d, body %q", w.Code, w.Body)
			}
		case w.Code == 200 && which%5 == 4: // revocation: an empty 200
		default:
			t.Fatalf("status %d with Content-Type %q: %s", w.Code, ct, w.Body)
		}
	})
}
