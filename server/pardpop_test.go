package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-id/signet/dpop"
)

// parDPoP pushes q as web with a DPoP header (none if "").
func (e *loginEnv) parDPoP(q url.Values, proof string) page {
	req, _ := http.NewRequest("POST", e.issuer+PathPAR, strings.NewReader(q.Encode()))
	req.Header.Set("Content-Type", formContentType)
	req.SetBasicAuth("web", webSecret)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.do(nil, req)
}

// TestPARDPoP: a DPoP proof sent with a pushed request (RFC 9449 section
// 10.1) binds the code to its key; a proof for another URL, a replayed
// one, or a dpop_jkt naming another key is refused at the push.
func TestPARDPoP(t *testing.T) {
	e := newLoginEnv(t)
	p := e.newProver("ES256")
	proof := e.proof(p, "POST", PathPAR, dpop.ProofOptions{})
	r := e.parDPoP(webRequest(), proof)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("PAR with a proof: %d %s", r.StatusCode, r.body)
	}
	e.oauthErr(e.parDPoP(webRequest(), proof), 400, "invalid_dpop_proof") // replayed
	e.oauthErr(e.parDPoP(webRequest(), e.proof(p, "POST", PathToken, dpop.ProofOptions{})), 400, "invalid_dpop_proof")
	other := e.newProver("ES256")
	e.oauthErr(e.parDPoP(webRequest("dpop_jkt", other.Thumbprint()), e.proof(p, "POST", PathPAR, dpop.ProofOptions{})), 400, "invalid_dpop_proof")

	var pr struct {
		RequestURI string `json:"request_uri"`
	}
	json.Unmarshal([]byte(r.body), &pr)
	b := e.browser()
	lp := b.get(b.authorize(byReference("web", pr.RequestURI)).Header.Get("Location"))
	cb := e.callback(b.submitLogin(lp.body, "alice", alicePassword), webRedirect)
	redeem := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")}, "redirect_uri": {webRedirect}, "code_verifier": {verifierForSPA}}
	e.oauthErr(e.dpopToken(redeem, e.proof(other, "POST", PathToken, dpop.ProofOptions{}), "web", webSecret), 400, "invalid_grant")
	tr := e.tokens(e.dpopToken(redeem, e.proof(p, "POST", PathToken, dpop.ProofOptions{}), "web", webSecret))
	if _, claims := e.jwtParts(tr.AccessToken); claims["cnf"].(map[string]any)["jkt"] != p.Thumbprint() {
		t.Fatalf("access token cnf %v, want the pushed proof's key", claims["cnf"])
	}
}
