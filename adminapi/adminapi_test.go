package adminapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/adminauth"
	"github.com/signet-id/signet/adminauth/adminauthtest"
	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

const issuer = "https://id.example"

type env struct {
	t     *testing.T
	h     http.Handler
	store clientreg.Store
	keys  *adminauthtest.KeySet
	admin string // a token with both scopes, client_id ops
	read  string // signet.admin.read only, client_id auditor
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, keys: &adminauthtest.KeySet{}}
	k := e.keys.Add(t, "k1")
	v, err := adminauth.NewVerifier(issuer, e.keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.store = clientreg.Reserve(clientreg.NewMemory(nil), clientreg.Reserved{File: "signet.yaml", Clients: []string{"yaml-client"}})
	now := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	keys := func() []keymanager.KeyInfo {
		return []keymanager.KeyInfo{{KID: "managed-1", Algorithm: key.ES256, State: key.StateActive, Created: now, SignsFrom: now, RetiresAt: now.Add(24 * time.Hour), DeleteAfter: now.Add(48 * time.Hour), Backend: key.BackendSoftware}}
	}
	e.h, err = New(Config{Store: e.store, Verifier: v, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	tok := adminauthtest.Token{KID: "k1", Typ: "at+jwt", Issuer: issuer, Audience: []string{adminauth.Audience},
		Scope: adminauth.ScopeRead + " " + adminauth.ScopeWrite, ClientID: "ops", Expiry: time.Now().Add(time.Hour), Key: k}
	e.admin = adminauthtest.Sign(t, tok)
	tok.Scope, tok.ClientID = adminauth.ScopeRead, "auditor"
	e.read = adminauthtest.Sign(t, tok)
	return e
}

type resp struct {
	code int
	h    http.Header
	body string
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("%d %s: %v", r.code, r.body, err)
	}
	return m
}

// do sends a request with token (empty: none) and headers "K: V".
func (e *env) do(token, method, path, body string, headers ...string) resp {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return resp{w.Code, w.Header(), string(b)}
}

const machine = `{"clientId":"billing","allowedGrantTypes":["client_credentials"],"allowedScopes":["orders.read"]}`

// The refusals issue 15 lists, against the real routes, and the one
// acceptance.
func TestAuthorisation(t *testing.T) {
	e := newEnv(t)
	old := e.keys.Add(t, "old")
	oldToken := adminauthtest.Sign(t, adminauthtest.Token{KID: "old", Typ: "at+jwt", Issuer: issuer, Audience: []string{adminauth.Audience},
		Scope: adminauth.ScopeWrite, ClientID: "ops", Expiry: time.Now().Add(time.Hour), Key: old})
	if r := e.do(oldToken, "GET", "/admin/v1/clients", ""); r.code != 200 {
		t.Fatalf("a token of a published key: %d %s", r.code, r.body)
	}
	e.keys.Remove("old") // retired, past its retention, deleted: no longer published
	other := adminauthtest.Sign(t, adminauthtest.Token{KID: "k1", Typ: "at+jwt", Issuer: issuer, Audience: []string{"https://api.example"},
		Scope: adminauth.ScopeWrite, ClientID: "ops", Expiry: time.Now().Add(time.Hour), Key: e.keys.Key("k1")})
	for name, tc := range map[string]struct {
		token, method, path, body string
		code                      int
	}{
		"no token":                {"", "GET", "/admin/v1/clients", "", 401},
		"no token, unknown route": {"", "GET", "/admin/v1/secrets", "", 401},
		"another audience":        {other, "GET", "/admin/v1/clients", "", 401},
		"read scope writing":      {e.read, "POST", "/admin/v1/clients", machine, 403},
		"read scope deleting":     {e.read, "DELETE", "/admin/v1/clients/x", "", 403},
		"retired and deleted key": {oldToken, "GET", "/admin/v1/clients", "", 401},
	} {
		if r := e.do(tc.token, tc.method, tc.path, tc.body); r.code != tc.code || !strings.HasPrefix(r.h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %s", name, r.code, r.body)
		}
	}
	if _, err := e.store.Client(t.Context(), "billing"); err == nil {
		t.Error("a refused write was stored")
	}
	if r := e.do(e.read, "GET", "/admin/v1/clients", ""); r.code != 200 {
		t.Errorf("read scope reading: %d %s", r.code, r.body)
	}
	if r := e.do(e.admin, "POST", "/admin/v1/clients", machine); r.code != 201 {
		t.Errorf("the right token: %d %s", r.code, r.body)
	}
}

func TestClientLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.admin, "POST", "/admin/v1/clients", machine)
	if r.code != 201 || r.h.Get("Location") != "/admin/v1/clients/billing" || r.h.Get("ETag") == "" {
		t.Fatalf("create: %d %v %s", r.code, r.h, r.body)
	}
	created := r.json(t)
	secret, _ := created["clientSecret"].(string)
	if len(secret) < 40 || strings.Contains(r.body, "sha256:") {
		t.Fatalf("the created secret is shown once, its hash never: %s", r.body)
	}
	stored, err := e.store.Client(t.Context(), "billing")
	if err != nil || len(stored.Secrets) != 1 || stored.Secrets[0].Hash != clientauth.HashSHA256(secret) {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	etag := r.h.Get("ETag")
	g := e.do(e.read, "GET", "/admin/v1/clients/billing", "")
	if g.code != 200 || g.h.Get("ETag") != etag || strings.Contains(g.body, "clientSecret") || strings.Contains(g.body, "sha256:") || !strings.Contains(g.body, `"createdBy":"ops"`) {
		t.Fatalf("get: %d %s %s", g.code, g.h.Get("ETag"), g.body)
	}

	update := `{"clientId":"billing","allowedGrantTypes":["client_credentials"],"allowedScopes":["orders.read","orders.write"]}`
	if r := e.do(e.admin, "PUT", "/admin/v1/clients/billing", update); r.code != 428 {
		t.Errorf("update without If-Match: %d %s", r.code, r.body)
	}
	if r := e.do(e.admin, "PUT", "/admin/v1/clients/billing", update, `If-Match: "999999"`); r.code != 412 {
		t.Errorf("update with a stale ETag: %d %s", r.code, r.body)
	}
	r = e.do(e.admin, "PUT", "/admin/v1/clients/billing", update, "If-Match: "+etag)
	if r.code != 200 || r.h.Get("ETag") == etag || !strings.Contains(r.body, "orders.write") {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	if s, _ := e.store.Client(t.Context(), "billing"); len(s.Secrets) != 1 || s.Secrets[0].Hash != clientauth.HashSHA256(secret) {
		t.Errorf("an update without secrets keeps the stored ones: %+v", s.Secrets)
	}
	if r := e.do(e.admin, "DELETE", "/admin/v1/clients/billing", "", "If-Match: "+etag); r.code != 412 {
		t.Errorf("delete with the old ETag: %d %s", r.code, r.body)
	}

	// Rotation: two secrets valid during the grace period.
	r = e.do(e.admin, "POST", "/admin/v1/clients/billing/rotate-secret?gracePeriod=1h", "")
	newSecret, _ := r.json(t)["clientSecret"].(string)
	if r.code != 200 || newSecret == "" || newSecret == secret {
		t.Fatalf("rotate: %d %s", r.code, r.body)
	}
	s, _ := e.store.Client(t.Context(), "billing")
	if len(s.Secrets) != 2 || s.Secrets[1].ExpiresAt == nil || s.Secrets[0].ExpiresAt != nil || s.Secrets[0].Hash != clientauth.HashSHA256(newSecret) {
		t.Errorf("after rotation: %+v", s.Secrets)
	}

	r = e.do(e.admin, "DELETE", "/admin/v1/clients/billing", "", "If-Match: "+r.h.Get("ETag"))
	if r.code != 204 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	if r := e.do(e.read, "GET", "/admin/v1/clients/billing", ""); r.code != 404 {
		t.Errorf("after delete: %d", r.code)
	}

	// The audit log: who (the token's client_id), what, before/after
	// without secrets.
	r = e.do(e.read, "GET", "/admin/v1/audit?kind=client&id=billing", "")
	var log struct{ Items []clientreg.AuditEntry }
	if err := json.Unmarshal([]byte(r.body), &log); err != nil || r.code != 200 {
		t.Fatalf("audit: %d %s", r.code, r.body)
	}
	var actions []string
	for _, a := range log.Items {
		actions = append(actions, a.Action+" by "+a.By)
	}
	if strings.Join(actions, ", ") != "delete by ops, rotate-secret by ops, update by ops, create by ops" {
		t.Errorf("audit actions: %v", actions)
	}
	if strings.Contains(r.body, "sha256:") || strings.Contains(r.body, secret) || strings.Contains(r.body, newSecret) {
		t.Errorf("the audit log shows a secret or a hash: %s", r.body)
	}
}

// Two writers with the same ETag: one wins, the other gets 412.
func TestConcurrentUpdates(t *testing.T) {
	e := newEnv(t)
	etag := e.do(e.admin, "POST", "/admin/v1/clients", machine).h.Get("ETag")
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := `{"clientId":"billing","allowedGrantTypes":["client_credentials"],"allowedScopes":["s` + string(rune('a'+i)) + `"]}`
			codes[i] = e.do(e.admin, "PUT", "/admin/v1/clients/billing", body, "If-Match: "+etag).code
		})
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case 200:
			won++
		case 412:
		default:
			t.Errorf("unexpected status %d", c)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d writers with one ETag won: %v", won, n, codes)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	names := []string{"a", "b", "c", "d", "https://api.example/orders"}
	for _, n := range names {
		if r := e.do(e.admin, "POST", "/admin/v1/resources", `{"name":"`+n+`","scopes":["x"]}`); r.code != 201 {
			t.Fatalf("create %s: %d %s", n, r.code, r.body)
		}
	}
	var got []string
	path := "/admin/v1/resources?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := e.do(e.read, "GET", path, "")
		var body struct {
			Items []clientreg.Resource
			Next  string
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.code != 200 || len(body.Items) > 2 {
			t.Fatalf("%s: %d %s", path, r.code, r.body)
		}
		for _, it := range body.Items {
			got = append(got, it.Name)
		}
		path = ""
		if link := r.h.Get("Link"); link != "" {
			path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
		if (body.Next == "") != (path == "") {
			t.Errorf("next %q and Link %q disagree", body.Next, r.h.Get("Link"))
		}
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("pages gave %v", got)
	}
	// A name that is a URL, escaped in the path.
	if r := e.do(e.read, "GET", "/admin/v1/resources/https:%2F%2Fapi.example%2Forders", ""); r.code != 200 || !strings.Contains(r.body, "api.example/orders") {
		t.Errorf("a URL name: %d %s", r.code, r.body)
	}
	if r := e.do(e.read, "GET", "/admin/v1/resources?limit=0", ""); r.code != 400 || !strings.Contains(r.body, "limit") {
		t.Errorf("limit=0: %d %s", r.code, r.body)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	for name, tc := range map[string]struct {
		method, path, body string
		code               int
		want               string
	}{
		"a YAML id":         {"POST", "/admin/v1/clients", `{"clientId":"yaml-client"}`, 409, "signet.yaml"},
		"unknown member":    {"POST", "/admin/v1/clients", `{"clientId":"x","allowedScope":["a"]}`, 400, "allowedScope"},
		"plain secret":      {"POST", "/admin/v1/clients", `{"clientId":"x","secrets":[{"hash":"plain:abc"}]}`, 400, "hash-secret"},
		"registration hash": {"POST", "/admin/v1/clients", `{"clientId":"x","registrationAccessTokenHash":"sha256:00"}`, 400, "registrationAccessTokenHash"},
		"no id":             {"POST", "/admin/v1/resources", `{"scopes":["a"]}`, 400, "name is required"},
		"two objects":       {"POST", "/admin/v1/resources", `{"name":"a"}{}`, 400, "after the JSON object"},
		"bad kind":          {"GET", "/admin/v1/audit?kind=user", "", 400, "kind"},
		"unknown":           {"GET", "/admin/v1/nothing", "", 404, "docs/admin-api.yaml"},
		"missing":           {"GET", "/admin/v1/clients/none", "", 404, "none"},
	} {
		r := e.do(e.admin, tc.method, tc.path, tc.body)
		if r.code != tc.code || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s; want %d with %q", name, r.code, r.body, tc.code, tc.want)
		}
	}
	if r := e.do(e.admin, "POST", "/admin/v1/resources", `{"name":"a","scopes":["x"]}`); r.code != 201 {
		t.Fatal(r.body)
	}
	if r := e.do(e.admin, "POST", "/admin/v1/resources", `{"name":"a","scopes":["x"]}`); r.code != 409 {
		t.Errorf("a second create: %d %s", r.code, r.body)
	}
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.read, "GET", "/admin/v1/keys", "")
	if r.code != 200 || !strings.Contains(r.body, `"kid":"managed-1"`) || !strings.Contains(r.body, `"state":"active"`) || strings.Contains(r.body, `"d"`) {
		t.Errorf("keys: %d %s", r.code, r.body)
	}
}

// TestClientLoginFields: the consent, second-factor, branding and
// connector keys of a clients[] entry are stored and shown under their
// YAML names.
func TestClientLoginFields(t *testing.T) {
	e := newEnv(t)
	body := `{"clientId":"portal","tokenEndpointAuthMethod":"none","allowedGrantTypes":["authorization_code"],"allowedScopes":["openid"],` +
		`"redirectUris":["https://portal.example.com/cb"],"requireConsent":true,"allowRememberConsent":true,"requireMfa":true,` +
		`"displayName":"Example Portal","logoUri":"https://portal.example.com/logo.png","clientUri":"https://portal.example.com","allowedConnectors":["corp","local"]}`
	if r := e.do(e.admin, "POST", "/admin/v1/clients", body); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	stored, err := e.store.Client(t.Context(), "portal")
	if err != nil || !stored.RequireConsent || !stored.AllowRememberConsent || !stored.RequireMFA || stored.DisplayName != "Example Portal" ||
		stored.LogoURI != "https://portal.example.com/logo.png" || stored.ClientURI != "https://portal.example.com" || strings.Join(stored.AllowedConnectors, ",") != "corp,local" {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	g := e.do(e.read, "GET", "/admin/v1/clients/portal", "")
	for _, want := range []string{`"requireConsent":true`, `"allowRememberConsent":true`, `"requireMfa":true`, `"displayName":"Example Portal"`,
		`"logoUri":"https://portal.example.com/logo.png"`, `"clientUri":"https://portal.example.com"`, `"allowedConnectors":["corp","local"]`} {
		if !strings.Contains(g.body, want) {
			t.Errorf("GET lacks %s: %s", want, g.body)
		}
	}
}
