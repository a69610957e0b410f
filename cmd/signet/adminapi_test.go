package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// call sends a JSON request with a Bearer token (none when empty).
func call(t *testing.T, method, u, token, body string, headers ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, u, rd)
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	if m == nil && len(b) > 0 {
		m = map[string]any{"raw": string(b)}
	}
	return resp.StatusCode, resp.Header, m
}

// within retries f for up to 3 s (the registry's change signal brings a
// change within a second).
func within(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// TestServeAdminAPIAndRegistration runs serve with the admin API on the
// public listener and open registration: an operator's client gets an
// admin token, creates a machine client that gets a token; a client
// registers itself (RFC 7591) and signs a person in with code + PKCE
// through golang.org/x/oauth2 and go-oidc, independent client libraries.
func TestServeAdminAPIAndRegistration(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	_, hash, _ := runCLI(t, "alice-password", nil, "hash-password")
	cfg := writeFile(t, dir, "signet.yaml", fmt.Sprintf(`
issuer: http://%s
listen: %s
storage: { driver: sqlite, dsn: ./data/signet.db }
keyManagement: { signingAlgorithms: [ES256] }
adminAPI: { enabled: true }
dynamicRegistration:
  enabled: true
  initialAccessToken: optional
  allowedGrantTypes: [authorization_code, refresh_token]
  allowedScopes: [openid, profile]
  defaultLifetime: 24h
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: ops
    secrets: ["plain:ops-secret-for-the-test"]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [signet.admin.read, signet.admin.write]
users:
  - { subject: u-1, username: alice, passwordHash: %q, claims: { name: Alice } }
`, addr, addr, strings.TrimSpace(hash)))
	in := startServe(t, serveOptions{configPath: cfg}, nil)
	ctx := context.Background()

	admin, err := in.token(ctx, "ops", "ops-secret-for-the-test", oauth2.AuthStyleInHeader, []string{"signet.admin.read", "signet.admin.write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := call(t, "GET", in.base+"/admin/v1/clients", "", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	// A token for another audience: ops may not get one for orders, so
	// use the registered client's ID token below; here, a read token.
	read, err := in.token(ctx, "ops", "ops-secret-for-the-test", oauth2.AuthStyleInHeader, []string{"signet.admin.read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"clientId":"billing","allowedGrantTypes":["client_credentials"],"allowedScopes":["orders.read"]}`
	if code, _, m := call(t, "POST", in.base+"/admin/v1/clients", read, body); code != 403 {
		t.Errorf("read token writing: %d %v", code, m)
	}
	code, h, m := call(t, "POST", in.base+"/admin/v1/clients", admin, body)
	if code != 201 || h.Get("ETag") == "" {
		t.Fatalf("create: %d %v", code, m)
	}
	secret, _ := m["clientSecret"].(string)
	within(t, "the created client gets a token", func() error {
		_, err := in.token(ctx, "billing", secret, oauth2.AuthStyleInHeader, []string{"orders.read"}, nil)
		return err
	})
	// A client the file's rules refuse is refused before it is stored.
	if code, _, m := call(t, "POST", in.base+"/admin/v1/clients", admin, `{"clientId":"bad","allowedGrantTypes":["client_credentials"],"allowedScopes":["nope"]}`); code != 400 || !strings.Contains(fmt.Sprint(m), "nope") {
		t.Errorf("a client with an unknown scope: %d %v", code, m)
	}
	if code, _, m := call(t, "POST", in.base+"/admin/v1/clients", admin, `{"clientId":"ops"}`); code != 409 || !strings.Contains(fmt.Sprint(m), "signet.yaml") {
		t.Errorf("a YAML id: %d %v", code, m)
	}

	// Discovery names the registration endpoint.
	p, err := oidc.NewProvider(ctx, in.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Registration string `json:"registration_endpoint"`
	}
	if err := p.Claims(&disc); err != nil || disc.Registration != in.issuer+"/connect/register" {
		t.Fatalf("registration_endpoint %q %v", disc.Registration, err)
	}
	// RFC 7591 errors.
	if code, _, m := call(t, "POST", disc.Registration, "", `{"redirect_uris":["http://app.example/cb"],"token_endpoint_auth_method":"none"}`); code != 400 || m["error"] != "invalid_redirect_uri" {
		t.Errorf("an http redirect URI: %d %v", code, m)
	}
	if code, _, m := call(t, "POST", disc.Registration, "", `{"redirect_uris":["http://127.0.0.1:9/cb"],"scope":"openid orders.read"}`); code != 400 || m["error"] != "invalid_client_metadata" {
		t.Errorf("a scope outside the policy: %d %v", code, m)
	}
	redirect := "http://127.0.0.1:9/cb"
	code, _, reg := call(t, "POST", disc.Registration, "", `{"redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","grant_types":["authorization_code"],"scope":"openid profile","client_name":"cli"}`)
	if code != 201 || reg["client_id"] == nil || reg["registration_access_token"] == nil || reg["client_secret"] != nil {
		t.Fatalf("register: %d %v", code, reg)
	}
	clientID := reg["client_id"].(string)

	// Sign in with x/oauth2 (PKCE) and verify the ID token with go-oidc.
	conf := oauth2.Config{ClientID: clientID, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile"}}
	verifier := oauth2.GenerateVerifier()
	var cb *url.URL
	within(t, "the registered client is served", func() error {
		resp, err := httpFlow().Get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return fmt.Errorf("authorize: %d", resp.StatusCode)
		}
		return nil
	})
	cb = signIn(t, httpFlow(), conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "alice", "alice-password")
	tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil || idt.Subject != "u-1" {
		t.Fatalf("ID token: %v %+v", err, idt)
	}
	// Not an admin token: another audience.
	if code, _, _ := call(t, "GET", in.base+"/admin/v1/clients", tok.AccessToken, ""); code != 401 {
		t.Errorf("a token for another audience: %d", code)
	}

	// RFC 7592: read with the registration access token, not without.
	regURI := reg["registration_client_uri"].(string)
	if code, _, m := call(t, "GET", regURI, reg["registration_access_token"].(string), ""); code != 200 || m["client_id"] != clientID {
		t.Errorf("client configuration read: %d %v", code, m)
	}
	if code, _, _ := call(t, "GET", regURI, admin, ""); code != 401 {
		t.Errorf("client configuration read with another token: %d", code)
	}

	// The audit log names who made each change.
	code, _, log := call(t, "GET", in.base+"/admin/v1/audit?kind=client", read, "")
	items, _ := log["items"].([]any)
	var who []string
	for _, it := range items {
		e := it.(map[string]any)
		who = append(who, fmt.Sprint(e["action"], " ", e["id"], " by ", e["by"]))
	}
	if code != 200 || strings.Join(who, "; ") != "create "+clientID+" by dynamic; create billing by ops" {
		t.Errorf("audit: %d %v", code, who)
	}
}
