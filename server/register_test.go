package server

import (
	"encoding/json"
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
	"github.com/signet-id/signet/registration"
	"github.com/signet-id/signet/throttle"
)

var openPolicy = registration.Policy{InitialAccessToken: registration.InitialAccessTokenOptional,
	AllowedGrantTypes: []string{"authorization_code", "refresh_token"}, AllowedScopes: []string{"openid", "profile"}, DefaultLifetime: time.Hour}

const cliClient = `{"redirect_uris":["http://127.0.0.1:8400/cb"],"token_endpoint_auth_method":"none","scope":"openid"}`

func postJSON(h http.Handler, path, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRegistrationDiscovery(t *testing.T) {
	off := newLoginEnv(t)
	if w := get(off.s, "/.well-known/openid-configuration"); strings.Contains(w.Body.String(), "registration_endpoint") {
		t.Errorf("registration_endpoint without dynamic registration: %s", w.Body)
	}
	if w := postJSON(off.s, "/connect/register", "", cliClient); w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /connect/register without dynamic registration: %d", w.Code)
	}
	on := newLoginEnv(t, func(c *Config) { c.Registration = &Registration{Policy: openPolicy, Store: clientreg.NewMemory(nil)} })
	if w := get(on.s, "/.well-known/openid-configuration"); !strings.Contains(w.Body.String(), `"registration_endpoint":"`+on.issuer+`/connect/register"`) {
		t.Errorf("discovery: %s", w.Body)
	}
}

// N concurrent registrations from one address against a budget of 3:
// exactly 3 are served, across two servers sharing the attempts store
// (as a cluster shares PostgreSQL's attempts table).
func TestRegistrationBudget(t *testing.T) {
	attempts := throttle.NewMemory(1000)
	store := clientreg.NewMemory(nil)
	mod := func(c *Config) {
		c.Registration = &Registration{Policy: openPolicy, Store: store}
		c.Attempts = attempts
		c.Limits.RegistrationPerAddress = throttle.Limit{Max: 3, Window: time.Hour}
	}
	a, b := newLoginEnv(t, mod), newLoginEnv(t, mod)
	const n = 12
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		srv := a.s
		if i%2 == 1 {
			srv = b.s
		}
		wg.Go(func() {
			w := postJSON(srv, "/connect/register", "", cliClient)
			codes[i] = w.Code
			if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
	wg.Wait()
	served := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			served++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("status %d", c)
		}
	}
	if served != 3 {
		t.Errorf("%d of %d concurrent registrations served with a budget of 3: %v", served, n, codes)
	}
	if list, _, _ := store.Clients(t.Context(), clientreg.Page{}); len(list) != 3 {
		t.Errorf("%d clients stored", len(list))
	}
	// Refused registrations spend it too: a bad one is counted.
	c := newLoginEnv(t, func(c *Config) {
		c.Registration = &Registration{Policy: openPolicy, Store: clientreg.NewMemory(nil)}
		c.Limits.RegistrationPerAddress = throttle.Limit{Max: 1, Window: time.Hour}
	})
	if w := postJSON(c.s, "/connect/register", "", `{"redirect_uris":["http://evil.example/cb"]}`); w.Code != 400 {
		t.Fatalf("bad registration: %d", w.Code)
	}
	if w := postJSON(c.s, "/connect/register", "", cliClient); w.Code != http.StatusTooManyRequests {
		t.Errorf("after a refused registration: %d", w.Code)
	}
}

func TestRegistrationFlow(t *testing.T) {
	ks := &adminauthtest.KeySet{}
	k := ks.Add(t, "k1")
	store := clientreg.NewMemory(nil)
	var e *loginEnv
	e = newLoginEnv(t, func(c *Config) {
		v, err := adminauth.NewVerifier(c.Issuer, ks, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := openPolicy
		p.InitialAccessToken = registration.InitialAccessTokenRequired
		c.Registration = &Registration{Policy: p, Store: store, InitialAccessTokens: v}
	})
	tok := func(scope string) string {
		return adminauthtest.Sign(t, adminauthtest.Token{KID: "k1", Typ: "at+jwt", Issuer: e.issuer, Audience: []string{adminauth.Audience},
			Scope: scope, ClientID: "platform", Expiry: time.Now().Add(time.Hour), Key: k})
	}
	if w := postJSON(e.s, "/connect/register", "", cliClient); w.Code != 401 || !strings.Contains(w.Body.String(), "initial access token") {
		t.Errorf("without an initial access token: %d %s", w.Code, w.Body)
	}
	if w := postJSON(e.s, "/connect/register", tok(adminauth.ScopeRead), cliClient); w.Code != 403 {
		t.Errorf("with a read token: %d %s", w.Code, w.Body)
	}
	for body, code := range map[string]string{
		`{"redirect_uris":["https://app.example/cb#frag"]}`:                                "invalid_redirect_uri",
		`{"redirect_uris":["https://app.example/cb"],"scope":"openid signet.admin.write"}`: "invalid_client_metadata",
		`{"redirect_uris":["https://app.example/cb"],"software_statement":"eyJhbGciOi"}`:   "unapproved_software_statement",
		`not json`: "invalid_client_metadata",
	} {
		w := postJSON(e.s, "/connect/register", tok(adminauth.ScopeRegister), body)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"error":"`+code+`"`) {
			t.Errorf("%s: %d %s; want %s", body, w.Code, w.Body, code)
		}
	}
	w := postJSON(e.s, "/connect/register", tok(adminauth.ScopeRegister), `{"redirect_uris":["https://app.example/cb"],"client_name":"App","logo_uri":"https://app.example/logo.png"}`)
	var reg map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil || w.Code != 201 {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	id, rat, secret := reg["client_id"].(string), reg["registration_access_token"].(string), reg["client_secret"].(string)
	if reg["client_secret_expires_at"].(float64) != float64(testNow.Add(time.Hour).Unix()) || reg["logo_uri"] != "https://app.example/logo.png" || reg["token_endpoint_auth_method"] != "client_secret_basic" {
		t.Errorf("registration answer: %v", reg)
	}
	stored, err := store.Client(t.Context(), id)
	if err != nil || !registration.CheckSecret(stored.RegistrationAccessTokenHash, rat) || !registration.CheckSecret(stored.Secrets[0].Hash, secret) ||
		stored.Meta.CreatedBy != "dynamic:platform" || strings.Contains(string(clientreg.Redact(stored)), "sha256") {
		t.Fatalf("stored: %+v %v", stored, err)
	}

	uri := "/connect/register/" + id
	do := func(method, token, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, uri, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		e.s.ServeHTTP(w, r)
		return w
	}
	if w := do("GET", rat, ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"client_name":"App"`) || strings.Contains(w.Body.String(), secret) {
		t.Errorf("read: %d %s", w.Code, w.Body)
	}
	for _, bad := range []string{"", secret, tok(adminauth.ScopeWrite)} {
		if w := do("GET", bad, ""); w.Code != 401 {
			t.Errorf("read with %q: %d", bad, w.Code)
		}
	}
	if w := do("PUT", rat, `{"client_id":"`+id+`","redirect_uris":["https://app.example/cb2"],"client_name":"App 2"}`); w.Code != 200 || !strings.Contains(w.Body.String(), "cb2") {
		t.Errorf("update: %d %s", w.Code, w.Body)
	}
	if s, _ := store.Client(t.Context(), id); s.RedirectURIs[0] != "https://app.example/cb2" || !registration.CheckSecret(s.Secrets[0].Hash, secret) {
		t.Errorf("after the update: %+v", s)
	}
	if w := do("PUT", rat, `{"client_id":"`+id+`","redirect_uris":["http://app.example/cb"]}`); w.Code != 400 || !strings.Contains(w.Body.String(), "invalid_redirect_uri") {
		t.Errorf("update with a bad URI: %d %s", w.Code, w.Body)
	}
	if w := do("DELETE", rat, ""); w.Code != 204 {
		t.Errorf("delete: %d %s", w.Code, w.Body)
	}
	if w := do("GET", rat, ""); w.Code != 401 {
		t.Errorf("read after delete: %d", w.Code)
	}
}

// TestRegistrationBranding: client_name, logo_uri and client_uri are the
// client's displayName, logoUri and clientUri, checked by the rules of
// those keys as well as the registration's; what only an administrator
// sets (requireConsent, allowRememberConsent, requireMfa,
// allowedConnectors) survives the client's own update; a record written
// before these fields answers as before.
func TestRegistrationBranding(t *testing.T) {
	ks := &adminauthtest.KeySet{}
	k := ks.Add(t, "k1")
	store := clientreg.NewMemory(nil)
	var e *loginEnv
	e = newLoginEnv(t, func(c *Config) {
		v, err := adminauth.NewVerifier(c.Issuer, ks, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Registration = &Registration{Policy: openPolicy, Store: store, InitialAccessTokens: v}
	})
	tok := adminauthtest.Sign(t, adminauthtest.Token{KID: "k1", Typ: "at+jwt", Issuer: e.issuer, Audience: []string{adminauth.Audience},
		Scope: adminauth.ScopeRegister, ClientID: "platform", Expiry: time.Now().Add(time.Hour), Key: k})
	for body, want := range map[string]string{
		`{"redirect_uris":["https://app.example/cb"],"logo_uri":"http://127.0.0.1/logo.png"}`:   "logo_uri: must be an https URL",
		`{"redirect_uris":["https://app.example/cb"],"logo_uri":"https://app.example/a;b.png"}`: "logo_uri: must not contain",
		`{"redirect_uris":["https://app.example/cb"],"client_name":" App"}`:                     "client_name: must be one line",
		`{"redirect_uris":["https://app.example/cb"],"client_uri":"ftp://app.example"}`:         "client_uri:",
	} {
		w := postJSON(e.s, "/connect/register", tok, body)
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"error":"invalid_client_metadata"`) || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s; want invalid_client_metadata with %q", body, w.Code, w.Body, want)
		}
	}
	w := postJSON(e.s, "/connect/register", tok, `{"redirect_uris":["https://app.example/cb"],"client_name":"App","logo_uri":"https://app.example/logo.png","client_uri":"https://app.example","contacts":["ops@app.example"]}`)
	var reg map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil || w.Code != 201 {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	id, rat := reg["client_id"].(string), reg["registration_access_token"].(string)
	stored, err := store.Client(t.Context(), id)
	if err != nil || stored.DisplayName != "App" || stored.LogoURI != "https://app.example/logo.png" || stored.ClientURI != "https://app.example" ||
		stored.ClientName != "" || strings.Contains(string(stored.Extra), "uri") || !strings.Contains(string(stored.Extra), "ops@app.example") {
		t.Fatalf("stored: %+v %s %v", stored, stored.Extra, err)
	}
	if reg["client_name"] != "App" || reg["logo_uri"] != "https://app.example/logo.png" || reg["client_uri"] != "https://app.example" {
		t.Errorf("registration answer: %v", reg)
	}

	// An administrator asks for consent, a second factor and a connector.
	stored.RequireConsent, stored.AllowRememberConsent, stored.RequireMFA, stored.AllowedConnectors = true, true, true, []string{"local"}
	if _, err := store.UpdateClient(t.Context(), stored, stored.Meta.Revision, clientreg.Change{By: "ops"}); err != nil {
		t.Fatal(err)
	}
	put := httptest.NewRequest("PUT", "/connect/register/"+id, strings.NewReader(`{"client_id":"`+id+`","redirect_uris":["https://app.example/cb"],"client_name":"App 2",`+
		`"requireConsent":false,"require_consent":false,"requireMfa":false,"allowedConnectors":[]}`))
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("Authorization", "Bearer "+rat)
	pw := httptest.NewRecorder()
	e.s.ServeHTTP(pw, put)
	if pw.Code != 200 {
		t.Fatalf("update: %d %s", pw.Code, pw.Body)
	}
	after, _ := store.Client(t.Context(), id)
	if !after.RequireConsent || !after.AllowRememberConsent || !after.RequireMFA || strings.Join(after.AllowedConnectors, ",") != "local" ||
		after.DisplayName != "App 2" || after.LogoURI != "" {
		t.Errorf("after the client's update: %+v", after)
	}

	// A record of the old code: client_name in clientName, URIs in extra.
	old := clientreg.Client{ClientID: "old-app", AllowedGrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://old.example/cb"},
		TokenEndpointAuthMethod: "none", ClientName: "Old App", Extra: json.RawMessage(`{"client_uri":"https://old.example","logo_uri":"https://old.example/l.png"}`),
		RegistrationAccessTokenHash: clientauth.HashSHA256("old-token")}
	if _, err := store.CreateClient(t.Context(), old, clientreg.Change{By: clientreg.ByDynamic}); err != nil {
		t.Fatal(err)
	}
	get := httptest.NewRequest("GET", "/connect/register/old-app", nil)
	get.Header.Set("Authorization", "Bearer old-token")
	gw := httptest.NewRecorder()
	e.s.ServeHTTP(gw, get)
	for _, want := range []string{`"client_name":"Old App"`, `"client_uri":"https://old.example"`, `"logo_uri":"https://old.example/l.png"`} {
		if gw.Code != 200 || !strings.Contains(gw.Body.String(), want) {
			t.Errorf("an old record's answer lacks %s: %d %s", want, gw.Code, gw.Body)
		}
	}
}

// TestRegistrationPolicyConsent: with dynamicRegistration.requireConsent
// every registered client that signs people in gets the consent page,
// and its own update (RFC 7592) cannot turn it off.
func TestRegistrationPolicyConsent(t *testing.T) {
	store := clientreg.NewMemory(nil)
	e := newLoginEnv(t, func(c *Config) {
		p := openPolicy
		p.RequireConsent = true
		c.Registration = &Registration{Policy: p, Store: store}
	})
	w := postJSON(e.s, "/connect/register", "", cliClient)
	var reg map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil || w.Code != 201 {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	id, rat := reg["client_id"].(string), reg["registration_access_token"].(string)
	if s, err := store.Client(t.Context(), id); err != nil || !s.RequireConsent {
		t.Fatalf("stored: %+v %v", s, err)
	}
	put := httptest.NewRequest("PUT", "/connect/register/"+id, strings.NewReader(`{"client_id":"`+id+`","redirect_uris":["http://127.0.0.1:8400/cb"],`+
		`"token_endpoint_auth_method":"none","scope":"openid","requireConsent":false}`))
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("Authorization", "Bearer "+rat)
	pw := httptest.NewRecorder()
	e.s.ServeHTTP(pw, put)
	if s, _ := store.Client(t.Context(), id); pw.Code != 200 || !s.RequireConsent {
		t.Errorf("after the client's update: %d %s %+v", pw.Code, pw.Body, s)
	}
}
