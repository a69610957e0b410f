package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestIntrospectionJSONAsMarshal: the introspection answer's bytes are
// json.Marshal's for every combination of present and absent fields,
// with values Signet issues (built without reflection) and with values
// json.Marshal escapes or compacts (the fallback).
func TestIntrospectionJSONAsMarshal(t *testing.T) {
	type values struct {
		name                                   string
		scope, client, sub, typ, iss, jti, jkt string
		aud                                    json.RawMessage
		exp, iat, nbf                          int64
		plain                                  bool // appendIntrospection must take it
	}
	sets := []values{
		{name: "issued", scope: "openid reports.read", client: "spa", sub: "user-1", typ: "Bearer", iss: "https://login.example.com/t",
			jti: "Zm9vYmFyYmF6cXV4cXV1eA", jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", aud: json.RawMessage(`"reports"`),
			exp: 1765000000, iat: -5, nbf: 9223372036854775807, plain: true},
		{name: "aud array", scope: "a", client: "c:1%2F~", sub: "s!#$'()*+,-./:;=?@[]^_`{|}", typ: "DPoP", iss: "http://127.0.0.1:8080",
			jti: "j", jkt: "k", aud: json.RawMessage(`["reports","orders","https://api.example.com/x?y=1"]`), exp: 1, iat: 2, nbf: 3, plain: true},
		{name: "HTML characters", scope: "a&b", client: "<c>", sub: "x>y", typ: "T", iss: "https://e/?a=1&b=2", jti: "&", jkt: "<",
			aud: json.RawMessage(`"a&b<c>"`), exp: 1, iat: 1, nbf: 1},
		{name: "escapes", scope: "tab\there", client: "quote\"", sub: "back\\slash", typ: "nl\n", iss: "\x00\x1f", jti: "\u2028\u2029", jkt: "é",
			aud: json.RawMessage(`["a", "b"]`), exp: 1, iat: 1, nbf: 1},
		{name: "invalid UTF-8", scope: "\xff", client: "\xc3", sub: "ok", typ: "ok", iss: "ok", jti: "ok", jkt: "ok",
			aud: json.RawMessage("[\n\"é\"\n]"), exp: 1, iat: 1, nbf: 1},
	}
	const fields = 12
	for _, v := range sets {
		for mask := range 1 << fields {
			on := func(i int) bool { return mask&(1<<i) != 0 }
			var out introspection
			out.Active = on(0)
			if on(1) {
				out.Scope = v.scope
			}
			if on(2) {
				out.ClientID = v.client
			}
			if on(3) {
				out.Sub = v.sub
			}
			if on(4) {
				out.TokenType = v.typ
			}
			if on(5) {
				out.Exp = v.exp
			}
			if on(6) {
				out.Iat = v.iat
			}
			if on(7) {
				out.Nbf = v.nbf
			}
			if on(8) {
				out.Aud = v.aud
			}
			if on(9) {
				out.Iss = v.iss
			}
			if on(10) {
				out.Jti = v.jti
			}
			if on(11) {
				out.Cnf = &confirmation{JKT: v.jkt}
			}
			want, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("xy")
			got := marshalIntrospection(prefix, &out)
			if !bytes.Equal(got, append([]byte("xy"), want...)) {
				t.Fatalf("%s, fields %012b:\n got %s\nwant xy%s", v.name, mask, got, want)
			}
			if _, ok := appendIntrospection(nil, &out); v.plain && !ok {
				t.Fatalf("%s, fields %012b: appendIntrospection refused values Signet issues", v.name, mask)
			}
		}
	}
	// A value with one escaped byte anywhere is refused, leaving b as it was.
	out := introspection{Active: true, Scope: "a", Sub: "b", Iss: "c", Jti: "d\"", Aud: json.RawMessage(`"e"`)}
	if b, ok := appendIntrospection([]byte("xy"), &out); ok || string(b) != "xy" {
		t.Fatalf("escaped jti: %q, %v; want xy, false", b, ok)
	}
}

// TestResourceScopeAsFilter: resourceScope returns what filtering the
// token's scopes by the resource's and joining them did, for canonical
// scopes (returned as they are) and others (spaces, tabs, Unicode white
// space, scopes the resource does not have).
func TestResourceScopeAsFilter(t *testing.T) {
	old := func(scope string, allowed []string) string {
		var scopes []string
		for _, sc := range strings.Fields(scope) {
			if slices.Contains(allowed, sc) {
				scopes = append(scopes, sc)
			}
		}
		return strings.Join(scopes, " ")
	}
	allowed := []string{"reports.read", "orders.read", "a"}
	for _, scope := range []string{
		"", " ", "a", "reports.read", "reports.read orders.read", "orders.read reports.read a",
		"openid reports.read", "reports.read openid", "openid", "openid profile",
		" reports.read", "reports.read ", "reports.read  orders.read", "reports.read\torders.read",
		"reports.read\norders.read", "reports.read\u00a0orders.read", "reports.read\u2003a", "a\x85a",
		"a a", "aa", "a b a", "\x7f", "reports.read\x00",
	} {
		if got, want := resourceScope(scope, allowed), old(scope, allowed); got != want {
			t.Errorf("resourceScope(%q) = %q, want %q", scope, got, want)
		}
		if got, want := resourceScope(scope, nil), old(scope, nil); got != want {
			t.Errorf("resourceScope(%q, nil) = %q, want %q", scope, got, want)
		}
	}
	scope := "reports.read orders.read"
	if n := testing.AllocsPerRun(100, func() { resourceScope(scope, allowed) }); n != 0 {
		t.Errorf("resourceScope of an allowed, canonical scope: %v allocations, want 0", n)
	}
}

// TestHasAudienceAsDecode: hasAudience answers as decoding aud did, for
// the strings and arrays Signet writes (without decoding) and for any
// other value (decoded).
func TestHasAudienceAsDecode(t *testing.T) {
	old := func(raw json.RawMessage, name string) bool { return slices.Contains(audience(raw), name) }
	raws := []string{
		`"reports"`, `"orders"`, `""`, `["reports"]`, `["orders","reports"]`, `["orders"]`, `[]`, `["a","b","c"]`,
		`["reports" ]`, `[ "reports"]`, `["orders", "reports"]`, `"rep\u006frts"`, `["rep\u006frts"]`, `"reports\\"`,
		`"\u00e9"`, `"é"`, `["é","reports"]`, `7`, `null`, `["reports",7]`, `{"a":"reports"}`, `[["reports"]]`,
		`"a,b"`, `["a,b"]`, `["a","b"`, `"reports`, `[`, `]`, `["a""b"]`, `["a",]`, `[,"a"]`, ``, `"`, `["reports"]x`,
	}
	for _, raw := range raws {
		for _, name := range []string{"reports", "orders", "é", "a,b", "", "a", "b"} {
			if got, want := hasAudience(json.RawMessage(raw), name), old(json.RawMessage(raw), name); got != want {
				t.Errorf("hasAudience(%s, %q) = %v, want %v", raw, name, got, want)
			}
		}
	}
	for _, raw := range []string{`"reports"`, `["orders","reports"]`, `[]`} {
		if _, ok := plainAudience(json.RawMessage(raw), "reports"); !ok {
			t.Errorf("plainAudience(%s) decodes an aud Signet writes", raw)
		}
	}
	aud := json.RawMessage(`["orders","reports","https://api.example.com/x"]`)
	if n := testing.AllocsPerRun(100, func() { hasAudience(aud, "reports") }); n != 0 {
		t.Errorf("hasAudience: %v allocations, want 0", n)
	}
}

// TestIntrospectionParamsNotCarriedOver: introspection's parameter maps
// are reused (paramsMapPool); a request never sees the parameters of an
// earlier one, whether it succeeded, failed or was refused.
func TestIntrospectionParamsNotCarriedOver(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	code := e.callback(b.authorize(spaRequest("scope", "openid reports.read")), spaRedirect).Get("code")
	tr := e.tokens(e.exchange(code, verifierForSPA))
	post := func(body string, basic bool) (int, string) {
		r := httptest.NewRequest(http.MethodPost, PathIntrospect, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			r.SetBasicAuth("reports", reportsSecret)
		}
		w := httptest.NewRecorder()
		e.s.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	for range 20 {
		if c, body := post("token="+tr.AccessToken, true); c != 200 || !strings.Contains(body, `"active":true`) {
			t.Fatalf("introspect: %d %s", c, body)
		}
		if c, body := post("token_type_hint=access_token", true); c != 400 || !strings.Contains(body, "token is missing") {
			t.Fatalf("without token, after one with: %d %s", c, body)
		}
		if c, body := post("token="+tr.AccessToken+"&client_id=reports&client_secret="+reportsSecret, false); c != 200 || !strings.Contains(body, `"active":true`) {
			t.Fatalf("secret in the body: %d %s", c, body)
		}
		if c, body := post("token="+tr.AccessToken, false); (c != 401 && c != 429) || !strings.Contains(body, "invalid_client") { // 429: failures are throttled
			t.Fatalf("without credentials, after a request with them in the body: %d %s", c, body)
		}
		if c, body := post("token=a&token=b", true); c != 400 || !strings.Contains(body, "more than once") {
			t.Fatalf("duplicate: %d %s", c, body)
		}
		if c, body := post("token=%zz", true); c != 400 {
			t.Fatalf("malformed: %d %s", c, body)
		}
	}
}

// TestVerifiedTokenKeepsRevocationID: the verified token cache keeps each
// token's revocation record id (hashed once, at verification), the id
// revokeJTI writes, so a revocation holds for a token verified before it.
func TestVerifiedTokenKeepsRevocationID(t *testing.T) {
	e := newLoginEnv(t)
	b := e.signedInBrowser()
	code := e.callback(b.authorize(spaRequest("scope", "openid reports.read")), spaRedirect).Get("code")
	tr := e.tokens(e.exchange(code, verifierForSPA))
	for range 2 { // verified, then from the cache
		c, err := e.s.verifiedAccessToken(tr.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if want := revocationID(c.Jti); c.revocationID != want {
			t.Fatalf("revocationID %q, want %q", c.revocationID, want)
		}
	}
	if m := e.introspect(tr.AccessToken); m["active"] != true {
		t.Fatalf("active token: %v", m)
	}
	if p := e.token2(PathRevocation, url.Values{"client_id": {"spa"}, "token": {tr.AccessToken}}); p.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", p.StatusCode, p.body)
	}
	if m := e.introspect(tr.AccessToken); m["active"] != false {
		t.Fatalf("revoked token, verified before: %v", m)
	}
}
