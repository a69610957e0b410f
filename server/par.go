package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/dpopbinding"
	"github.com/signet-id/signet/server/internal/fapi2"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Pushed authorization requests (RFC 9126).
//
// A client POSTs an authorization request to PathPAR, authenticated as
// at the token endpoint. It is checked exactly as at the authorization
// endpoint (checkAuthorize, with every extension) and stored as a grant
// of kind pushed_authorization_request under the hash of the request_uri
// returned, for PushedRequestLifetime. The authorization endpoint takes
// client_id and that request_uri: it uses the stored request up
// (ConsumeGrant: once, across a cluster) and ignores every other
// parameter it was sent (RFC 9101 section 5), then checks the request
// again (the configuration may have changed).
//
// When the user must sign in, the resolved request goes to the login
// page by reference: a new grant of the same kind (marked pending) under
// a fresh handle, for PendingSignInLifetime. The login page reads it on
// every round trip and the code's issue (or the user's cancel) uses it
// up. So a request that must be pushed cannot be forged through the
// login page's query, and a sign-in may take longer than the request_uri
// lives.

// PathPAR is the pushed authorization request endpoint, relative to the
// issuer.
const PathPAR = "/connect/par"

const (
	// PushedRequestLifetime is how long a request_uri from PathPAR may
	// be used (its expires_in).
	PushedRequestLifetime = 60 * time.Second
	// PendingSignInLifetime is how long the login page keeps a resolved
	// pushed request while the user signs in.
	PendingSignInLifetime = 30 * time.Minute
	// RequestURIPrefix starts every request_uri PathPAR returns.
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// pendingPrefix starts the handle of a resolved pushed request at
	// the login page; the authorization endpoint does not take it.
	pendingPrefix = "urn:signet:pending:"
	// MaxPushedRequestBytes bounds a stored pushed request (its
	// parameters as JSON).
	MaxPushedRequestBytes = 8 << 10
)

// pushedRequest is the stored form of a pushed request.
type pushedRequest struct {
	// Params are the authorization request's parameters (authzParams'
	// fields), client authentication removed.
	Params map[string]string `json:"params"`
	// Pending marks a resolved request waiting at the login page.
	Pending bool `json:"pending,omitempty"`
}

// servePAR is the pushed authorization request endpoint.
func (s *Server) servePAR(w http.ResponseWriter, r *http.Request) {
	if e := s.par(w, r); e != nil {
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("pushed authorization request refused", "status", e.Status, "error", e.Code, "reason", e.Desc)
		}
		oauth.WriteError(w, e)
	}
}

// par handles one pushed authorization request and writes the success
// response itself; it returns the error to write otherwise.
func (s *Server) par(w http.ResponseWriter, r *http.Request) *oauth.Error {
	if r.Method != http.MethodPost {
		return &oauth.Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "the pushed authorization request endpoint accepts POST only", Allow: http.MethodPost}
	}
	if r.URL.RawQuery != "" {
		return oauth.InvalidRequest("send the parameters in the body, not the URL query")
	}
	body, status, reason := s.readForm(r)
	if status != 0 {
		return &oauth.Error{Status: status, Code: "invalid_request", Desc: reason}
	}
	p, ok := parseParams(body)
	if !ok {
		return oauth.InvalidRequest("the body is not valid application/x-www-form-urlencoded")
	}
	if d := p.dup("client_secret", "client_assertion", "client_assertion_type"); d != "" {
		return oauth.InvalidRequest("parameter " + d + " appears more than once")
	}

	// Client authentication, as at the token endpoint for confidential
	// clients: a pushed request is stored, so only an authenticated
	// client may push one.
	reg := s.reg.Load()
	_, hasSecret := p.v["client_secret"]
	ar := &clientauthn.Request{HTTP: r, ClientID: p.v["client_id"], Secret: p.v["client_secret"], HasSecret: hasSecret,
		Assertion: p.v["client_assertion"], AssertionType: p.v["client_assertion_type"], Clients: reg, Dummies: reg.dummy}
	ac, e := clientauthn.Authenticate(ar, s.secretMethods,
		"no client authentication: pushed authorization requests need an authenticated client; use HTTP Basic (client_secret_basic), client_id and client_secret in the body (client_secret_post) or the client's own method")
	if e != nil {
		return e
	}
	if e := s.profileAuthn(r, reg, ac.ID, ar.Used); e != nil {
		return e
	}

	// A DPoP proof binds the code to its key (RFC 9449 section 10.1,
	// the dpop_jkt extension); its jti is recorded now that the client
	// is authenticated.
	jkt, e := s.dpop.Check(r.Context(), r, s.issuer+PathPAR, dpopbinding.Client{ID: ac.ID, Algorithms: reg.clients[ac.ID].dpopAlgs})
	if e != nil {
		return e
	}

	a, _ := parseAuthorizeRequest(body) // parseParams accepted it
	switch {
	case a.clientID == "":
		a.clientID = ac.ID // authenticated by HTTP Basic
	case a.clientID != ac.ID || a.dup == "client_id":
		return oauth.InvalidRequest("client_id is not the client that authenticated")
	}
	if a.requestURI != "" {
		return oauth.InvalidRequest("request_uri must not be sent to the pushed authorization request endpoint (RFC 9126 section 2.1)")
	}
	a.pushed, a.proofJKT = true, jkt
	if a.request != "" { // a request object (requestobject.go)
		var ae *authzError
		if a, ae = s.resolveRequestObject(r.Context(), reg, a); ae != nil {
			return &oauth.Error{Status: http.StatusBadRequest, Code: ae.code, Desc: ae.desc}
		}
	}
	req, ae := s.checkAuthorize(reg, a)
	if ae != nil {
		return &oauth.Error{Status: http.StatusBadRequest, Code: ae.code, Desc: ae.desc}
	}
	params := req.params()
	if req.binding.DPoPJKT != "" { // the proof's key: authorize checks the request again with it
		params["dpop_jkt"] = req.binding.DPoPJKT
	}
	data, _ := json.Marshal(pushedRequest{Params: params}) // cannot fail: strings
	if len(data) > MaxPushedRequestBytes {
		return oauth.InvalidRequest("the authorization request is too large to store (" + strconv.Itoa(len(data)) + " bytes of parameters; at most " + strconv.Itoa(MaxPushedRequestBytes) + ")")
	}
	handle, err := s.randomHandle(32)
	if err != nil {
		s.log.Error("pushed authorization request: randomness failed", "error", err)
		return oauth.ServerError()
	}
	uri := RequestURIPrefix + handle
	now := s.now()
	g := grantstore.Grant{ID: grantstore.HashHandle(uri), Kind: grantstore.KindPushedRequest, ClientID: ac.ID,
		Data: data, Created: now, Expires: now.Add(PushedRequestLifetime)}
	if err := s.oidc.grants.CreateGrant(r.Context(), g); err != nil {
		s.log.Error("pushed authorization request: storing it failed", "client_id", ac.ID, "error", err)
		return oauth.Unavailable()
	}
	out := oauth.AppendJSONString([]byte(`{"request_uri":`), uri)
	out = append(out, `,"expires_in":`...)
	out = strconv.AppendInt(out, int64(PushedRequestLifetime/time.Second), 10)
	out = append(out, '}')
	h := w.Header()
	if n := s.dpop.Nonce(); n != "" {
		h.Set("DPoP-Nonce", n)
	}
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	w.WriteHeader(http.StatusCreated)
	w.Write(out)
	return nil
}

// profileAuthn refuses a client authentication method the client's
// security profile does not allow: a FAPI 2.0 client authenticates with
// private_key_jwt (server/internal/fapi2), never a secret.
func (s *Server) profileAuthn(r *http.Request, reg *registry, clientID, method string) *oauth.Error {
	if cl := reg.clients[clientID]; cl != nil && cl.fapi2 && !fapi2.AuthMethodAllowed(method) {
		return s.authRefused(r, "client", clientID, "FAPI 2.0 client authenticated with "+method,
			oauth.InvalidClient("the client '"+oauth.Clip(clientID)+"' follows the FAPI 2.0 Security Profile: authenticate with private_key_jwt, not "+method))
	}
	return nil
}

// Errors of a request_uri at the authorization endpoint and the login
// page (RFC 9101 section 6.2: invalid_request_uri). They are shown on a
// page: without the stored request, the redirect URI is not known.
var (
	errRequestURIBad    = &authzError{code: "invalid_request_uri", desc: "request_uri is unknown, used or expired: push the authorization request again"}
	errRequestURIClient = &authzError{code: "invalid_request", desc: "client_id does not match the pushed authorization request"}
)

// resolvePushed replaces the parameters of an authorization request that
// names a pushed request (a, with client_id and request_uri) by the
// pushed request's, using it up. The other parameters a carries are
// ignored (RFC 9101 section 5).
func (s *Server) resolvePushed(ctx context.Context, a authzParams) (authzParams, *authzError) {
	switch {
	case a.dup == "request_uri" || a.dup == "client_id":
		return a, pageError(a.dup + " appears more than once")
	case a.clientID == "":
		return a, pageError("client_id is missing: send it beside request_uri")
	case !strings.HasPrefix(a.requestURI, RequestURIPrefix):
		return a, &authzError{code: "invalid_request_uri", desc: "request_uri must be one this server's pushed authorization request endpoint returned (" + RequestURIPrefix + "...); request objects are not fetched from URLs"}
	}
	g, err := s.oidc.grants.ConsumeGrant(ctx, grantstore.HashHandle(a.requestURI), s.now())
	return s.pushedParams(a, g, err, false)
}

// resolvePending replaces the parameters of the login page's pending
// request a, which names a resolved pushed request by its handle, by the
// stored ones, without using it up (the page may be shown again).
func (s *Server) resolvePending(ctx context.Context, a authzParams) (authzParams, *authzError) {
	if a.dup == "request_uri" || a.dup == "client_id" || !strings.HasPrefix(a.requestURI, pendingPrefix) {
		return a, errRequestURIBad
	}
	g, err := s.oidc.grants.Grant(ctx, grantstore.HashHandle(a.requestURI))
	if err == nil {
		err = g.ConsumeRefusal(s.now())
	}
	return s.pushedParams(a, g, err, true)
}

// pushedParams returns the parameters of the pushed request g, read with
// err, for a (client_id and request_uri as sent). pending is whether g
// must be a resolved request waiting at the login page.
func (s *Server) pushedParams(a authzParams, g grantstore.Grant, err error, pending bool) (authzParams, *authzError) {
	switch {
	case errors.Is(err, grantstore.ErrNotFound), errors.Is(err, grantstore.ErrConsumed), errors.Is(err, grantstore.ErrExpired), errors.Is(err, grantstore.ErrRevoked):
		return a, errRequestURIBad
	case err != nil:
		s.log.Error("authorize: reading a pushed authorization request failed", "error", err)
		return a, &authzError{code: "temporarily_unavailable", desc: "the server cannot read pushed authorization requests right now; retry shortly"}
	}
	var d pushedRequest
	if g.Kind != grantstore.KindPushedRequest || json.Unmarshal(g.Data, &d) != nil || d.Pending != pending {
		return a, errRequestURIBad
	}
	if g.ClientID != a.clientID || d.Params["client_id"] != a.clientID {
		return a, errRequestURIClient
	}
	v := make(url.Values, len(d.Params))
	for k, val := range d.Params {
		v.Set(k, val)
	}
	out, ok := parseAuthorizeRequest(v.Encode())
	if !ok {
		return a, errRequestURIBad
	}
	out.pushed = true
	if pending {
		out.requestURI = a.requestURI
	}
	return out, nil
}

// toLogin sends the user agent to the login page with req. A pushed
// request goes by reference: it is stored, pending, under a new handle
// (unless it already is).
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request, req *authzRequest) {
	if s.keepPending(w, r, req) {
		s.redirect(w, r, s.issuer+PathLogin+"?"+req.encode())
	}
}

// keepPending stores req, a pushed request the authorization endpoint
// used up, as a pending request for the pages that follow (login,
// consent), which carry it by reference. It reports whether req may go
// on; otherwise it has answered.
func (s *Server) keepPending(w http.ResponseWriter, r *http.Request, req *authzRequest) bool {
	if req.pushed && req.requestURI == "" {
		handle, err := s.randomHandle(32)
		if err != nil {
			s.log.Error("authorize: randomness failed", "error", err)
			s.authorizeError(w, r, &req.authzParams, redirectError("server_error", "internal error"))
			return false
		}
		uri := pendingPrefix + handle
		data, _ := json.Marshal(pushedRequest{Params: req.params(), Pending: true}) // cannot fail: strings
		now := s.now()
		g := grantstore.Grant{ID: grantstore.HashHandle(uri), Kind: grantstore.KindPushedRequest, ClientID: req.clientID,
			Data: data, Created: now, Expires: now.Add(PendingSignInLifetime)}
		if err := s.oidc.grants.CreateGrant(r.Context(), g); err != nil {
			s.log.Error("authorize: storing the pending request failed", "client_id", req.clientID, "error", err)
			s.authorizeError(w, r, &req.authzParams, redirectError("temporarily_unavailable", "the server cannot store the authorization request right now; retry shortly"))
			return false
		}
		req.requestURI = uri
	}
	return true
}

// usePending uses up the pending pushed request of req, if it has one:
// a code is issued (or the user cancelled) once per pushed request. It
// reports whether req may go on; otherwise it has answered.
func (s *Server) usePending(w http.ResponseWriter, r *http.Request, req *authzRequest) bool {
	if !req.pushed || req.requestURI == "" {
		return true
	}
	_, err := s.oidc.grants.ConsumeGrant(r.Context(), grantstore.HashHandle(req.requestURI), s.now())
	switch {
	case err == nil:
		return true
	case errors.Is(err, grantstore.ErrNotFound), errors.Is(err, grantstore.ErrConsumed), errors.Is(err, grantstore.ErrExpired), errors.Is(err, grantstore.ErrRevoked):
		s.authorizeError(w, r, &req.authzParams, redirectError(errRequestURIBad.code, "this sign-in request was used or expired: start again at the application"))
	default:
		s.log.Error("login: using up the pending request failed", "client_id", req.clientID, "error", err)
		s.authorizeError(w, r, &req.authzParams, redirectError("temporarily_unavailable", "the server cannot store the authorization right now; retry shortly"))
	}
	return false
}

// checkFAPI2 applies the FAPI 2.0 Security Profile to the login-flow view
// lc of the client c, when c follows it: its ID tokens are signed with
// PS256, ES256 or EdDSA only, and its rotated refresh tokens keep working
// for the reuse interval (a refresh whose response was lost is retried
// with the same token; docs/client-authentication.md says why Signet rotates).
func checkFAPI2(c Client, lc *loginClient) error {
	if !c.FAPI2 {
		return nil
	}
	if lc.idAlgs = fapi2.Restrict(lc.idAlgs); len(lc.idAlgs) == 0 {
		return fmt.Errorf("server: client %q follows the FAPI 2.0 Security Profile, which allows only PS256, ES256 and EdDSA, but its allowedIdentityTokenSigningAlgorithms list none of them", c.ID)
	}
	if lc.Refresh && lc.ReuseInterval < fapi2.MinReuseInterval {
		return fmt.Errorf("server: client %q follows the FAPI 2.0 Security Profile and may refresh, but its refreshTokenReuseInterval is %s: its rotated refresh token must keep working for a while so that a refresh whose response was lost can be retried; set refreshTokenReuseInterval (the default is 30s) or remove the setting", c.ID, lc.ReuseInterval)
	}
	return nil
}
