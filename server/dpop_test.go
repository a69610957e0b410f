package server

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/internal/testkeys"
	"github.com/signet-id/signet/key"
)

// newProver returns a DPoP client key on the env's clock.
func (e *loginEnv) newProver(alg string) *dpop.Prover {
	e.t.Helper()
	var p *dpop.Prover
	var err error
	switch alg {
	case "EdDSA":
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		p, err = dpop.NewProver(ed, alg, e.clock.Now)
	default:
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p, err = dpop.NewProver(ec, "ES256", e.clock.Now)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// proof makes a proof for method and an issuer path.
func (e *loginEnv) proof(p *dpop.Prover, method, path string, o dpop.ProofOptions) string {
	e.t.Helper()
	s, err := p.Proof(method, e.issuer+path, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// dpopToken posts to the token endpoint with a DPoP header (none if "").
func (e *loginEnv) dpopToken(form url.Values, proof string, basic ...string) page {
	req, _ := http.NewRequest("POST", e.issuer+PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	return e.do(nil, req)
}

// dpopUserinfo calls userinfo with scheme and a proof (none if "").
func (e *loginEnv) dpopUserinfo(scheme, at, proof string) page {
	req, _ := http.NewRequest("GET", e.issuer+PathUserinfo, nil)
	req.Header.Set("Authorization", scheme+" "+at)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.do(nil, req)
}

var ccForm = url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}

// TestDPoPClientCredentials: a proof at the token endpoint binds the
// access token (cnf.jkt, token_type DPoP); without one the token is
// Bearer as before; a bad proof is invalid_dpop_proof; a proof used twice
// is refused.
func TestDPoPClientCredentials(t *testing.T) {
	e := newLoginEnv(t)
	p := e.newProver("ES256")
	proof := e.proof(p, "POST", PathToken, dpop.ProofOptions{})
	r := e.dpopToken(ccForm, proof, "poster", "poster-secret")
	if r.StatusCode != 200 || !strings.Contains(r.body, `"token_type":"DPoP"`) {
		t.Fatalf("with a proof: %d %s", r.StatusCode, r.body)
	}
	at := decode[tokenResponse](t, []byte(r.body)).AccessToken
	if _, c := e.jwtParts(at); c["cnf"].(map[string]any)["jkt"] != p.Thumbprint() {
		t.Fatalf("cnf %v, want jkt %s", c["cnf"], p.Thumbprint())
	}
	// Introspection reports the binding.
	if m := e.introspect(at); m["token_type"] != "DPoP" || m["cnf"].(map[string]any)["jkt"] != p.Thumbprint() {
		t.Fatalf("introspection %v", m)
	}
	// The same proof again: replayed.
	e.oauthErr(e.dpopToken(ccForm, proof, "poster", "poster-secret"), 400, "invalid_dpop_proof")

	// Without a proof: Bearer, no cnf.
	r = e.dpopToken(ccForm, "", "poster", "poster-secret")
	if r.StatusCode != 200 || !strings.Contains(r.body, `"token_type":"Bearer"`) {
		t.Fatalf("without a proof: %d %s", r.StatusCode, r.body)
	}
	if _, c := e.jwtParts(decode[tokenResponse](t, []byte(r.body)).AccessToken); c["cnf"] != nil {
		t.Fatalf("unbound token has cnf %v", c["cnf"])
	}

	// Proofs refused at the token endpoint (one case per kind; package
	// dpop tests every rule).
	for name, proof := range map[string]string{
		"for userinfo":     e.proof(p, "POST", PathUserinfo, dpop.ProofOptions{}),
		"for GET":          e.proof(p, "GET", PathToken, dpop.ProofOptions{}),
		"not a JWT":        "not.a.jwt",
		"signature broken": proof[:len(proof)-4] + "AAAA",
	} {
		r := e.dpopToken(ccForm, proof, "poster", "poster-secret")
		e.oauthErr(r, 400, "invalid_dpop_proof")
		if name == "for userinfo" && !strings.Contains(r.body, "htu") {
			t.Errorf("%s: the description does not name htu: %s", name, r.body)
		}
	}
	// Two DPoP headers.
	req, _ := http.NewRequest("POST", e.issuer+PathToken, strings.NewReader(ccForm.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Add("DPoP", e.proof(p, "POST", PathToken, dpop.ProofOptions{}))
	req.Header.Add("DPoP", e.proof(p, "POST", PathToken, dpop.ProofOptions{}))
	req.SetBasicAuth("poster", "poster-secret")
	e.oauthErr(e.do(nil, req), 400, "invalid_dpop_proof")

	// A stale proof.
	old := e.proof(p, "POST", PathToken, dpop.ProofOptions{})
	e.clock.Add(2 * dpop.DefaultWindow)
	e.oauthErr(e.dpopToken(ccForm, old, "poster", "poster-secret"), 400, "invalid_dpop_proof")

	// Every refusal above is counted by its code.
	w := httptest.NewRecorder()
	e.s.AdminHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if want := `signet_token_errors_total{error="invalid_dpop_proof"} 7`; !strings.Contains(w.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
}

// TestDPoPProofAfterClientAuthentication: a request whose client fails
// to authenticate gets invalid_client and its proof's jti is not
// recorded (an unauthenticated flood stores nothing): the same proof then
// works with the right secret.
func TestDPoPProofAfterClientAuthentication(t *testing.T) {
	e := newLoginEnv(t)
	p := e.newProver("ES256")
	proof := e.proof(p, "POST", PathToken, dpop.ProofOptions{})
	e.oauthErr(e.dpopToken(ccForm, proof, "poster", "wrong"), 401, "invalid_client")
	if r := e.dpopToken(ccForm, proof, "poster", "poster-secret"); r.StatusCode != 200 {
		t.Fatalf("the proof was spent by an unauthenticated request: %d %s", r.StatusCode, r.body)
	}
}

// TestDPoPRequireDPoP: clients[].requireDPoP refuses token requests
// without a proof, for every grant.
func TestDPoPRequireDPoP(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "poster" || c.Clients[i].ID == "spa" {
				c.Clients[i].RequireDPoP = true
			}
		}
	})
	p := e.newProver("ES256")
	r := e.dpopToken(ccForm, "", "poster", "poster-secret")
	e.oauthErr(r, 400, "invalid_dpop_proof")
	if !strings.Contains(r.body, "requireDPoP") && !strings.Contains(r.body, "DPoP proof is required") {
		t.Errorf("the refusal does not say why: %s", r.body)
	}
	if r := e.dpopToken(ccForm, e.proof(p, "POST", PathToken, dpop.ProofOptions{}), "poster", "poster-secret"); r.StatusCode != 200 {
		t.Fatalf("with a proof: %d %s", r.StatusCode, r.body)
	}
	// Another client is not affected.
	if r := e.dpopToken(ccForm, "", "billing", "billing-secret"); r.StatusCode != 200 {
		t.Fatalf("billing without a proof: %d %s", r.StatusCode, r.body)
	}
	// The public client: its code exchange needs a proof too.
	code := e.code(e.browser(), spaRequest())
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code}, "redirect_uri": {spaRedirect}, "code_verifier": {verifierForSPA}}
	e.oauthErr(e.dpopToken(form, ""), 400, "invalid_dpop_proof")
	tr := e.tokens(e.dpopToken(form, e.proof(p, "POST", PathToken, dpop.ProofOptions{})))
	if tr.TokenType != "DPoP" {
		t.Fatalf("token type %s", tr.TokenType)
	}
	// Its tokens never work as Bearer.
	if ui := e.userinfo(tr.AccessToken); ui.StatusCode != 401 || !strings.HasPrefix(ui.Header.Get("WWW-Authenticate"), "DPoP") {
		t.Fatalf("DPoP-bound token as Bearer at userinfo: %d %v", ui.StatusCode, ui.Header)
	}
}

// TestDPoPLoginFlow: dpop_jkt binds the code; the public client's tokens
// and refresh tokens are bound to its key; userinfo takes the access
// token with a proof, as DPoP only.
func TestDPoPLoginFlow(t *testing.T) {
	e := newLoginEnv(t)
	p, other := e.newProver("ES256"), e.newProver("EdDSA")
	code := e.code(e.browser(), spaRequest("dpop_jkt", p.Thumbprint()))
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa"}, "code": {code}, "redirect_uri": {spaRedirect}, "code_verifier": {verifierForSPA}}
	// The code is bound to p's key: no proof, or another key's, is refused.
	e.oauthErr(e.dpopToken(form, ""), 400, "invalid_grant")
	e.oauthErr(e.dpopToken(form, e.proof(other, "POST", PathToken, dpop.ProofOptions{})), 400, "invalid_grant")
	tr := e.tokens(e.dpopToken(form, e.proof(p, "POST", PathToken, dpop.ProofOptions{})))
	if tr.TokenType != "DPoP" || tr.RefreshToken == "" {
		t.Fatalf("token response %+v", tr)
	}
	if _, c := e.jwtParts(tr.AccessToken); c["cnf"].(map[string]any)["jkt"] != p.Thumbprint() {
		t.Fatalf("cnf %v", c["cnf"])
	}

	// userinfo: DPoP with a proof for it, carrying ath.
	ok := e.proof(p, "GET", PathUserinfo, dpop.ProofOptions{AccessToken: tr.AccessToken})
	if ui := e.dpopUserinfo("DPoP", tr.AccessToken, ok); ui.StatusCode != 200 || !strings.Contains(ui.body, `"sub":"user-alice"`) {
		t.Fatalf("userinfo with DPoP: %d %s", ui.StatusCode, ui.body)
	}
	for name, tc := range map[string]struct{ scheme, proof, wantErr string }{
		"the same proof again":    {"DPoP", ok, "invalid_dpop_proof"},
		"as Bearer":               {"Bearer", "", "invalid_token"},
		"no proof":                {"DPoP", "", "invalid_dpop_proof"},
		"proof without ath":       {"DPoP", e.proof(p, "GET", PathUserinfo, dpop.ProofOptions{}), "invalid_dpop_proof"},
		"proof by another key":    {"DPoP", e.proof(other, "GET", PathUserinfo, dpop.ProofOptions{AccessToken: tr.AccessToken}), "invalid_token"},
		"proof for the token URL": {"DPoP", e.proof(p, "GET", PathToken, dpop.ProofOptions{AccessToken: tr.AccessToken}), "invalid_dpop_proof"},
	} {
		ui := e.dpopUserinfo(tc.scheme, tr.AccessToken, tc.proof)
		ch := ui.Header.Get("WWW-Authenticate")
		if ui.StatusCode != 401 || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="`+tc.wantErr+`"`) || !strings.Contains(ch, `algs="ES256 PS256 RS256 EdDSA"`) {
			t.Errorf("%s: %d %q", name, ui.StatusCode, ch)
		}
	}
	// An unbound token presented as DPoP is refused too.
	plain := e.tokens(e.exchange(e.code(e.browser(), spaRequest()), verifierForSPA))
	if ui := e.dpopUserinfo("DPoP", plain.AccessToken, e.proof(p, "GET", PathUserinfo, dpop.ProofOptions{AccessToken: plain.AccessToken})); ui.StatusCode != 401 {
		t.Errorf("unbound token as DPoP: %d", ui.StatusCode)
	}
	if ui := e.userinfo(plain.AccessToken); ui.StatusCode != 200 {
		t.Errorf("unbound token as Bearer: %d %s", ui.StatusCode, ui.body)
	}

	// Refresh: the public client's refresh token is bound to p's key.
	e.clock.Add(time.Minute)
	e.oauthErr(e.refresh(tr.RefreshToken), 400, "invalid_grant")
	rf := url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {tr.RefreshToken}}
	e.oauthErr(e.dpopToken(rf, e.proof(other, "POST", PathToken, dpop.ProofOptions{})), 400, "invalid_grant")
	tr2 := e.tokens(e.dpopToken(rf, e.proof(p, "POST", PathToken, dpop.ProofOptions{})))
	if tr2.TokenType != "DPoP" || tr2.RefreshToken == "" || tr2.RefreshToken == tr.RefreshToken {
		t.Fatalf("refresh %+v", tr2)
	}
	// Refused attempts by another key did not count as reuse: the
	// successor still refreshes, with the key.
	rf.Set("refresh_token", tr2.RefreshToken)
	if r := e.dpopToken(rf, e.proof(p, "POST", PathToken, dpop.ProofOptions{})); r.StatusCode != 200 {
		t.Fatalf("second refresh: %d %s", r.StatusCode, r.body)
	}
}

// TestDPoPConfidentialRefreshNotBound: a confidential client's refresh
// tokens stay unbound (RFC 9449 section 5: client authentication
// constrains them), while its access tokens follow each request's proof.
func TestDPoPConfidentialRefreshNotBound(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "web" {
				c.Clients[i].GrantTypes = append(c.Clients[i].GrantTypes, grantRefreshToken)
				c.Clients[i].IdentityScopes = append(c.Clients[i].IdentityScopes, "offline_access")
				c.Clients[i].RefreshTokenLifetime = time.Hour
			}
		}
	})
	p := e.newProver("ES256")
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {webRedirect}, "scope": {"openid offline_access"}, "state": {"s"}}
	cb := e.callback(e.browser().signIn(q, "alice", alicePassword), webRedirect)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {webRedirect}}
	tr := e.tokens(e.dpopToken(form, e.proof(p, "POST", PathToken, dpop.ProofOptions{}), "web", webSecret))
	if tr.TokenType != "DPoP" || tr.RefreshToken == "" {
		t.Fatalf("%+v", tr)
	}
	tr2 := e.tokens(e.dpopToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, "", "web", webSecret))
	if tr2.TokenType != "Bearer" {
		t.Fatalf("refresh without a proof: %+v", tr2)
	}
}

// TestDPoPNonce: with RequireNonce, a proof without a nonce is answered
// use_dpop_nonce with a DPoP-Nonce header, and the retry with it
// succeeds; nonces rotate with the clock.
func TestDPoPNonce(t *testing.T) {
	secret := []byte(strings.Repeat("n", 32))
	e := newLoginEnv(t, func(c *Config) { c.DPoP = DPoP{RequireNonce: true, NonceSecret: secret} })
	p := e.newProver("ES256")
	r := e.dpopToken(ccForm, e.proof(p, "POST", PathToken, dpop.ProofOptions{}), "poster", "poster-secret")
	e.oauthErr(r, 400, "use_dpop_nonce")
	nonce := r.Header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("no DPoP-Nonce header")
	}
	r = e.dpopToken(ccForm, e.proof(p, "POST", PathToken, dpop.ProofOptions{Nonce: nonce}), "poster", "poster-secret")
	if r.StatusCode != 200 || r.Header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("with the nonce: %d %s (nonce %q)", r.StatusCode, r.body, r.Header.Get("DPoP-Nonce"))
	}
	// userinfo asks for the nonce too (401 use_dpop_nonce, DPoP-Nonce);
	// with it the proof passes and the next check answers (this client
	// token has no openid scope).
	at := decode[tokenResponse](t, []byte(r.body)).AccessToken
	ui := e.dpopUserinfo("DPoP", at, e.proof(p, "GET", PathUserinfo, dpop.ProofOptions{AccessToken: at}))
	if ui.StatusCode != 401 || !strings.Contains(ui.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || ui.Header.Get("DPoP-Nonce") != nonce {
		t.Fatalf("userinfo without the nonce: %d %v", ui.StatusCode, ui.Header)
	}
	ui = e.dpopUserinfo("DPoP", at, e.proof(p, "GET", PathUserinfo, dpop.ProofOptions{AccessToken: at, Nonce: nonce}))
	if ui.StatusCode != 403 || !strings.Contains(ui.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("userinfo with the nonce: %d %v %s", ui.StatusCode, ui.Header, ui.body)
	}
	// Two periods later the nonce is stale: a new one is issued.
	e.clock.Add(2 * dpop.DefaultNoncePeriod)
	r = e.dpopToken(ccForm, e.proof(p, "POST", PathToken, dpop.ProofOptions{Nonce: nonce}), "poster", "poster-secret")
	e.oauthErr(r, 400, "use_dpop_nonce")
	if n := r.Header.Get("DPoP-Nonce"); n == "" || n == nonce {
		t.Fatalf("rotated nonce %q (old %q)", n, nonce)
	}
	// A request without a proof needs no nonce.
	if r := e.dpopToken(ccForm, "", "poster", "poster-secret"); r.StatusCode != 200 {
		t.Fatalf("without DPoP: %d %s", r.StatusCode, r.body)
	}
}

// TestDPoPClientAlgorithms: a client limited to some proof algorithms (a
// FAPI 2.0 client: PS256, ES256, EdDSA) has an RS256 proof refused.
func TestDPoPClientAlgorithms(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "poster" {
				c.Clients[i].DPoPAlgorithms = []string{"PS256", "ES256", "EdDSA"}
			}
		}
	})
	rs, err := dpop.NewProver(testkeys.For(key.RS256), "RS256", e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	r := e.dpopToken(ccForm, e.proof(rs, "POST", PathToken, dpop.ProofOptions{}), "poster", "poster-secret")
	e.oauthErr(r, 400, "invalid_dpop_proof")
	if r := e.dpopToken(ccForm, e.proof(rs, "POST", PathToken, dpop.ProofOptions{}), "billing", "billing-secret"); r.StatusCode != 200 {
		t.Fatalf("RS256 proof of an unrestricted client: %d %s", r.StatusCode, r.body)
	}
	if r := e.dpopToken(ccForm, e.proof(e.newProver("EdDSA"), "POST", PathToken, dpop.ProofOptions{}), "poster", "poster-secret"); r.StatusCode != 200 {
		t.Fatalf("EdDSA proof: %d %s", r.StatusCode, r.body)
	}
}

// TestDPoPDiscovery lists the proof algorithms, as configured.
func TestDPoPDiscovery(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) { c.DPoP.Algorithms = []string{"ES256", "EdDSA"} })
	req, _ := http.NewRequest("GET", e.issuer+PathDiscovery, nil)
	d := e.do(nil, req)
	if !strings.Contains(d.body, `"dpop_signing_alg_values_supported":["ES256","EdDSA"]`) {
		t.Fatalf("discovery %s", d.body)
	}
	// A proof by an algorithm not allowed is refused.
	rk, err := dpop.NewProver(testkeys.For(key.PS256), "PS256", e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.oauthErr(e.dpopToken(ccForm, e.proof(rk, "POST", PathToken, dpop.ProofOptions{}), "poster", "poster-secret"), 400, "invalid_dpop_proof")
}

// TestDPoPTokenAtAnAPI: a DPoP-bound token from the server passes package
// dpop's resource check (what docs/dpop.md tells an API to do) with a
// proof by the client's key, and not with another key's.
func TestDPoPTokenAtAnAPI(t *testing.T) {
	e := newLoginEnv(t)
	p, other := e.newProver("ES256"), e.newProver("EdDSA")
	r := e.dpopToken(ccForm, e.proof(p, "POST", PathToken, dpop.ProofOptions{}), "poster", "poster-secret")
	if r.StatusCode != 200 {
		t.Fatalf("token: %d %s", r.StatusCode, r.body)
	}
	at := decode[tokenResponse](t, []byte(r.body)).AccessToken
	_, claims := e.jwtParts(at) // the API verifies the JWT with the JWKS
	jkt, _ := claims["cnf"].(map[string]any)["jkt"].(string)

	v, err := dpop.New(dpop.Config{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const api = "https://api.example.com/reports"
	call := func(pr *dpop.Prover) error {
		req, _ := http.NewRequest("GET", api, nil)
		req.Header.Set("Authorization", "DPoP "+at)
		proof, err := pr.Proof("GET", api, dpop.ProofOptions{AccessToken: at})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("DPoP", proof)
		tok, err := dpop.AccessToken(req)
		if err != nil {
			return err
		}
		_, err = v.VerifyResource(req, api, tok, jkt)
		return err
	}
	if err := call(p); err != nil {
		t.Fatalf("the client's proof: %v", err)
	}
	if err := call(other); !errors.Is(err, dpop.ErrTokenBinding) {
		t.Fatalf("another key's proof: %v", err)
	}
}
