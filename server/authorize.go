package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/oauth"
)

// authzParams are the parameters of an authorization request, as sent.
type authzParams struct {
	responseType        string
	clientID            string
	redirectURI         string
	scope               string
	state               string
	nonce               string
	codeChallenge       string
	codeChallengeMethod string
	prompt              string
	maxAge              string
	responseMode        string
	loginHint           string
	acrValues           string // acr_values (OpenID Connect Core 3.1.2.1)
	claims              string // the claims parameter (Core 5.5; claimsparam.go), as sent
	// requestURI is request_uri as sent: a pushed request's URN at the
	// authorization endpoint; at the login page, the handle of a resolved
	// pushed request (par.go). pushed is set only by resolving it (or at
	// the PAR endpoint itself): the parameters came from a pushed
	// request.
	requestURI string
	pushed     bool
	// request is the request object (RFC 9101) as sent; resolving it
	// (requestobject.go) replaces the parameters by its claims.
	request string
	// proofJKT is the thumbprint of the key of a DPoP proof sent with a
	// pushed request (the PAR endpoint only; RFC 9449 section 10.1).
	proofJKT string
	dpopJKT  string // dpop_jkt (RFC 9449 section 10)
	// unsupported names a parameter that is present and not supported:
	// registration.
	unsupported string
	// dup names a parameter that appeared more than once.
	dup string
}

// Bounds on authorization request values.
const (
	maxStateLen = 2048
	maxNonceLen = 512
	maxHintLen  = 256
	// maxACRValuesLen bounds acr_values (a few URNs).
	maxACRValuesLen = 1024
	maxMaxAge       = 1 << 31
)

// parseAuthorizeRequest parses the query or form of an authorization
// request. ok is false when it is not valid
// application/x-www-form-urlencoded.
func parseAuthorizeRequest(raw string) (authzParams, bool) {
	p, ok := parseParams(raw)
	if !ok {
		return authzParams{}, false
	}
	a := authzParams{
		responseType:        p.v["response_type"],
		clientID:            p.v["client_id"],
		redirectURI:         p.v["redirect_uri"],
		scope:               p.v["scope"],
		state:               p.v["state"],
		nonce:               p.v["nonce"],
		codeChallenge:       p.v["code_challenge"],
		codeChallengeMethod: p.v["code_challenge_method"],
		prompt:              p.v["prompt"],
		maxAge:              p.v["max_age"],
		responseMode:        p.v["response_mode"],
		loginHint:           p.v["login_hint"],
		acrValues:           p.v["acr_values"],
		claims:              p.v["claims"],
		requestURI:          p.v["request_uri"],
		request:             p.v["request"],
		dpopJKT:             p.v["dpop_jkt"],
	}
	for _, name := range []string{"registration"} {
		if _, ok := p.v[name]; ok {
			a.unsupported = name
			break
		}
	}
	a.dup = p.dup("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
		"code_challenge_method", "prompt", "max_age", "response_mode", "login_hint", "dpop_jkt", "request", "request_uri", "registration", "acr_values", "claims")
	return a, true
}

// encode returns the parameters as a query string in a fixed order: the
// pending request carried by the login form, and what its CSRF token is
// bound to. A resolved pushed request is carried by reference: client_id
// and the handle its parameters are stored under (par.go).
func (a *authzParams) encode() string {
	if a.pushed && a.requestURI != "" {
		return url.Values{"client_id": {a.clientID}, "request_uri": {a.requestURI}}.Encode()
	}
	v := url.Values{}
	for _, kv := range a.fields() {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v.Encode()
}

// fields lists the parameters a pending request carries, in a fixed
// order.
func (a *authzParams) fields() [15][2]string {
	return [...][2]string{
		{"response_type", a.responseType}, {"client_id", a.clientID}, {"redirect_uri", a.redirectURI},
		{"scope", a.scope}, {"state", a.state}, {"nonce", a.nonce}, {"code_challenge", a.codeChallenge},
		{"code_challenge_method", a.codeChallengeMethod}, {"prompt", a.prompt}, {"max_age", a.maxAge},
		{"response_mode", a.responseMode}, {"login_hint", a.loginHint}, {"dpop_jkt", a.dpopJKT},
		{"acr_values", a.acrValues}, {"claims", a.claims},
	}
}

// params returns the parameters a pending request carries (the ones
// encode keeps across the login page), for the extensions: a parameter
// an extension reads must be one of them.
func (a *authzParams) params() map[string]string {
	m := make(map[string]string, 15)
	for _, kv := range a.fields() {
		if kv[1] != "" {
			m[kv[0]] = kv[1]
		}
	}
	return m
}

// authzRequest is a checked authorization request.
type authzRequest struct {
	authzParams
	client      *client
	login       *loginClient
	scopes      []string
	scope       string // scopes joined by spaces
	promptNone  bool
	promptLogin bool
	// promptConsent: prompt=consent, the consent page even when a
	// remembered consent covers the request (consent.go).
	promptConsent bool
	maxAgeSec     int64 // -1: no max_age
	// acrWanted is the class the request asks for (acr_values, the claims
	// parameter) that this server defines: ACRMultiFactor when it asks
	// for it, "" otherwise (a single factor is always met).
	acrWanted string
	// claimsReq is the claims parameter, checked (nil: none).
	claimsReq *claimsRequest
	binding   *authorize.Binding
}

// authzError is an authorization error. redirect is false when the
// redirect URI cannot be trusted: the user then sees an error page.
type authzError struct {
	redirect bool
	code     string
	desc     string
}

func pageError(desc string) *authzError { return &authzError{code: "invalid_request", desc: desc} }

func redirectError(code, desc string) *authzError {
	return &authzError{redirect: true, code: code, desc: desc}
}

// dropUnknownScopes removes the scopes this server does not know (neither
// an identity scope nor a scope of an API resource) and logs them: OpenID
// Connect Core 3.1.2.1 says such scopes SHOULD be ignored (oauth2-proxy
// asks for "groups", for instance). The optional claim scopes (address,
// phone, groups) count as unknown to a client that was not given them, so
// that such a request keeps working where they are not configured. A
// known scope the client may not ask for is still refused.
func (s *Server) dropUnknownScopes(reg *registry, clientID string, scopes []string) []string {
	var unknown []string
	kept := scopes[:0:0]
	lc := reg.login[clientID]
	for _, sc := range scopes {
		if optionalClaimScope(sc) && (lc == nil || !slices.Contains(lc.identityScopes, sc)) {
			unknown = append(unknown, sc)
			continue
		}
		if isIdentityScope(sc) || slices.Contains(reg.scopes, sc) {
			kept = append(kept, sc)
		} else {
			unknown = append(unknown, sc)
		}
	}
	if unknown == nil {
		return scopes
	}
	s.log.Info("authorize: ignoring unknown scopes", "client_id", clientID, "scopes", unknown)
	return kept
}

// optionalClaimScope reports whether sc is a claim scope that a relying
// party may ask for by default without the client being given it.
func optionalClaimScope(sc string) bool {
	return sc == scopeAddress || sc == scopePhone || sc == scopeGroups
}

// checkAuthorize checks an authorization request against the client
// registry. Errors before the client and its redirect URI are known to be
// good are shown on a page; later ones go to the redirect URI.
func (s *Server) checkAuthorize(reg *registry, a authzParams) (*authzRequest, *authzError) {
	switch {
	case a.requestURI != "" && !a.pushed: // resolvePushed or resolvePending must come first
		return nil, pageError("request_uri was not resolved")
	case a.request != "": // resolveRequestObject must come first
		return nil, pageError("the request object was not resolved")
	case a.dup == "client_id" || a.dup == "redirect_uri":
		return nil, pageError(a.dup + " appears more than once")
	case a.clientID == "":
		return nil, pageError("client_id is missing")
	}
	cl, lc := reg.clients[a.clientID], reg.login[a.clientID]
	if cl == nil || lc == nil {
		return nil, &authzError{code: "invalid_client", desc: "the client '" + oauth.Clip(a.clientID) + "' is unknown"}
	}
	if !lc.Code {
		return nil, &authzError{code: "unauthorized_client", desc: "the client '" + oauth.Clip(a.clientID) + "' may not use the authorization code flow"}
	}
	if a.redirectURI == "" {
		return nil, pageError("redirect_uri is missing")
	}
	if !slices.Contains(lc.redirectURIs, a.redirectURI) {
		return nil, pageError("redirect_uri is not registered for the client '" + oauth.Clip(a.clientID) + "'")
	}

	// From here on the redirect URI is trusted.
	req := &authzRequest{authzParams: a, client: cl, login: lc, maxAgeSec: -1}
	switch {
	case !a.pushed && (lc.requirePAR || s.oidc.requirePAR): // RFC 9126 section 4
		return nil, redirectError("invalid_request", "the client '"+oauth.Clip(a.clientID)+"' must push its authorization requests: POST them to "+s.issuer+PathPAR+" and send client_id and the request_uri it returns")
	case a.dup != "":
		return nil, redirectError("invalid_request", "parameter "+a.dup+" appears more than once")
	case len(a.state) > maxStateLen: // not echoed back (authorizeError)
		return nil, redirectError("invalid_request", "state is longer than "+strconv.Itoa(maxStateLen)+" characters")
	case a.unsupported != "":
		return nil, redirectError(a.unsupported+"_not_supported", "the "+a.unsupported+" parameter is not supported")
	case a.responseType == "":
		return nil, redirectError("invalid_request", "response_type is missing")
	case a.responseType != "code":
		return nil, redirectError("unsupported_response_type", "only response_type=code is supported")
	case a.responseMode != "" && a.responseMode != "query":
		return nil, redirectError("invalid_request", "only response_mode=query is supported")
	case len(a.nonce) > maxNonceLen:
		return nil, redirectError("invalid_request", "nonce is longer than "+strconv.Itoa(maxNonceLen)+" characters")
	case len(a.loginHint) > maxHintLen:
		return nil, redirectError("invalid_request", "login_hint is too long")
	case len(a.acrValues) > maxACRValuesLen:
		return nil, redirectError("invalid_request", "acr_values is longer than "+strconv.Itoa(maxACRValuesLen)+" characters")
	}
	var claimsACR []string
	if a.claims != "" {
		cr, err := parseClaimsParameter(a.claims)
		if err != nil {
			return nil, redirectError("invalid_request", err.Error())
		}
		req.claimsReq, claimsACR = cr, cr.acr
	}
	req.acrWanted = wantedACR(strings.Fields(a.acrValues), claimsACR)

	scopes, e := oauth.ParseScope(a.scope)
	if e != nil {
		return nil, redirectError(e.Code, e.Desc)
	}
	scopes = s.dropUnknownScopes(reg, a.clientID, scopes)
	if len(scopes) == 0 {
		return nil, redirectError("invalid_scope", "scope is missing or names only scopes this server does not know; OpenID Connect requests need at least openid")
	}
	for _, sc := range scopes {
		if !slices.Contains(lc.identityScopes, sc) && !slices.Contains(cl.scopes, sc) {
			return nil, redirectError("invalid_scope", "scope '"+oauth.Clip(sc)+"' is not allowed for this client")
		}
	}
	req.scopes, req.scope = scopes, strings.Join(scopes, " ")

	// The extensions (PKCE), in order; each binds its part to the code.
	req.binding = &authorize.Binding{}
	ar := &authorize.Request{ClientID: a.clientID, Public: lc.Public, RequirePKCE: lc.fapi2, Params: a.params(), Binding: req.binding,
		DPoPJKT: a.proofJKT}
	for _, x := range s.authzExtensions {
		if e := x.Authorize(ar); e != nil {
			return nil, redirectError(e.Code, e.Desc)
		}
	}

	for _, v := range strings.Fields(a.prompt) {
		switch v {
		case "none":
			req.promptNone = true
		case "login", "select_account":
			req.promptLogin = true
		case "consent": // the consent page, for a client that requires consent (consent.go)
			req.promptConsent = true
		default:
			return nil, redirectError("invalid_request", "prompt value '"+oauth.Clip(v)+"' is not supported; use none, login, consent or select_account")
		}
	}
	if req.promptNone && len(strings.Fields(a.prompt)) > 1 {
		return nil, redirectError("invalid_request", "prompt=none cannot be combined with other values")
	}
	if a.maxAge != "" {
		n, err := strconv.ParseInt(a.maxAge, 10, 64)
		if err != nil || n < 0 || n > maxMaxAge {
			return nil, redirectError("invalid_request", "max_age must be a non-negative number of seconds")
		}
		req.maxAgeSec = n
	}
	return req, nil
}

// readAuthorizeParams returns the raw parameters of an authorization
// request (GET query or POST form), or writes an error page. HEAD is
// refused like any other method: a GET here writes (a code, a sign-out),
// and a HEAD must not.
func (s *Server) readAuthorizeParams(w http.ResponseWriter, r *http.Request) (string, bool) {
	switch r.Method {
	case http.MethodGet:
		return r.URL.RawQuery, true
	case http.MethodPost:
		body, status, reason := s.readForm(r)
		if status != 0 {
			s.oidc.pages.errorPage(w, status, "Invalid request", reason)
			return "", false
		}
		return body, true
	}
	w.Header().Set("Allow", "GET, POST")
	s.oidc.pages.errorPage(w, http.StatusMethodNotAllowed, "Invalid request", "This address accepts GET and POST only.")
	return "", false
}

// serveAuthorize is the authorization endpoint (RFC 6749 4.1, OpenID
// Connect Core 3.1.2).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readAuthorizeParams(w, r)
	if !ok {
		return
	}
	a, ok := parseAuthorizeRequest(raw)
	if !ok {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The request's parameters are not valid URL encoding.")
		return
	}
	var e *authzError
	switch {
	case a.requestURI != "" && a.request != "":
		e = pageError("send request or request_uri, not both")
	case a.requestURI != "": // a pushed request (par.go): used up here
		a, e = s.resolvePushed(r.Context(), a)
	case a.request != "": // a request object (requestobject.go)
		a, e = s.resolveRequestObject(r.Context(), s.reg.Load(), a)
	}
	if e != nil {
		s.authorizeError(w, r, &a, e)
		return
	}
	req, e := s.checkAuthorize(s.reg.Load(), a)
	if e != nil {
		s.authorizeError(w, r, &a, e)
		return
	}
	sess, err := s.currentSession(r)
	if err != nil {
		s.log.Error("authorize: reading the login session failed", "error", err)
		s.authorizeError(w, r, &req.authzParams, redirectError("temporarily_unavailable", "the server cannot read login sessions right now; retry shortly"))
		return
	}
	if s.needsLogin(req, sess) {
		if req.promptNone {
			s.authorizeError(w, r, &req.authzParams, redirectError("login_required", "the user is not signed in"))
			return
		}
		s.toLogin(w, r, req)
		return
	}
	if s.sessionNeedsStepUp(req, sess) {
		// A session with one factor where req needs two: the login page
		// asks for the second (mfa.go).
		if req.promptNone {
			s.authorizeError(w, r, &req.authzParams, redirectError("interaction_required", "the request needs a second factor the session does not have"))
			return
		}
		s.toLogin(w, r, req)
		return
	}
	s.continueSignedIn(w, r, req, sess) // consent.go
}

// needsLogin reports whether the user must sign in (again) before a code
// is issued: no session, prompt=login, or max_age exceeded.
func (s *Server) needsLogin(req *authzRequest, sess *session) bool {
	if sess == nil || req.promptLogin {
		return true
	}
	if req.maxAgeSec == 0 {
		return true
	}
	return req.maxAgeSec > 0 && s.now().Sub(sess.authTime) > time.Duration(req.maxAgeSec)*time.Second
}

// MaxSessionCodes is how many unredeemed authorization codes a login
// session holds: issuing one more deletes the oldest, so a signed-in
// browser cannot fill the store with codes.
const MaxSessionCodes = 10

// issueCode stores a new authorization code for sess, keeping at most
// MaxSessionCodes unredeemed ones, and redirects to the client with it
// (RFC 9207: with iss).
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, req *authzRequest, sess *session) {
	if want := req.claimsReq.subValue(); want != "" && want != sess.subject {
		// The claims parameter names another user (OpenID Connect Core
		// 5.5.1): no answer for this one. A session of someone else signs
		// in again; a sign-in as someone else is refused.
		switch {
		case req.promptNone:
			s.authorizeError(w, r, &req.authzParams, redirectError("login_required", "the user the request names (claims id_token sub) is not signed in"))
		case sess.pending == nil:
			s.toLogin(w, r, req)
		default:
			s.log.Info("sign-in refused: the request names another user (claims id_token sub)", "client_id", req.clientID, "sub", sess.subject)
			if s.usePending(w, r, req) {
				s.authorizeError(w, r, &req.authzParams, redirectError("access_denied", "the user who signed in is not the one the request names (claims id_token sub)"))
			}
		}
		return
	}
	if !s.usePending(w, r, req) { // a pushed request gives one code
		return
	}
	code, family, jti, err := s.threeHandles()
	if err != nil {
		s.log.Error("authorize: randomness failed", "error", err)
		s.authorizeError(w, r, &req.authzParams, redirectError("server_error", "internal error"))
		return
	}
	data, _ := json.Marshal(codeData{RedirectURI: req.redirectURI, Binding: *req.binding, Scope: req.scope,
		Nonce: req.nonce, AuthTime: sess.authTime.Unix(), JTI: jti, AMR: sess.auth.AMR, ACR: sess.auth.ACR,
		IDTokenClaims: req.claimsReq.idTokenClaims(req.login), UserinfoClaims: req.claimsReq.userinfoClaims(req.login)}) // cannot fail: strings and a number
	now := s.now()
	g := grantstore.Grant{ID: grantstore.HashHandle(code), Kind: grantstore.KindAuthorizationCode, ClientID: req.clientID,
		Subject: sess.subject, FamilyID: family, SessionID: sess.sid, Data: data, Created: now, Expires: now.Add(CodeLifetime)}
	if sess.pending != nil { // a sign-in: the session and its first code in one transaction
		err = s.oidc.grants.StartSession(r.Context(), sess.end, *sess.pending, g)
		if err == nil {
			s.sessionStarted(r.Context(), sess)
			http.SetCookie(w, s.cookie(sessionCookie, sess.handle, s.sessionCookieAge()))
		}
	} else {
		_, err = s.oidc.grants.CreateCode(r.Context(), g, MaxSessionCodes)
	}
	if err == nil {
		s.oidc.unused.put(g) // its exchange skips reading it back (unusedgrants.go)
	}
	if errors.Is(err, grantstore.ErrNoSession) { // signed out meanwhile
		if req.promptNone {
			s.authorizeError(w, r, &req.authzParams, redirectError("login_required", "the user is not signed in"))
			return
		}
		s.toLogin(w, r, req)
		return
	}
	if err != nil && sess.pending != nil {
		s.log.Error("storing the login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	if err != nil {
		s.log.Error("authorize: storing the code failed", "client_id", req.clientID, "error", err)
		s.authorizeError(w, r, &req.authzParams, redirectError("temporarily_unavailable", "the server cannot store the authorization right now; retry shortly"))
		return
	}
	v := url.Values{"code": {code}, "iss": {s.issuer}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	s.redirect(w, r, appendQuery(req.redirectURI, v))
}

// threeHandles returns a code (32 bytes), a family id and a token id
// (16 bytes each).
func (s *Server) threeHandles() (code, family, jti string, err error) {
	if code, err = s.randomHandle(32); err != nil {
		return
	}
	if family, err = s.randomHandle(16); err != nil {
		return
	}
	jti, err = s.randomHandle(16)
	return
}

// authorizeError sends e to the client's redirect URI, or shows it on a
// page when the redirect URI is not trusted.
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, a *authzParams, e *authzError) {
	if !e.redirect {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "This sign-in request is not valid",
			"The application sent a request Signet cannot accept ("+e.code+": "+e.desc+"). Go back to the application and try again; if it keeps happening, tell its developers.")
		return
	}
	v := url.Values{"error": {e.code}, "error_description": {oauth.SanitizeDescription(e.desc)}, "iss": {s.issuer}}
	if a.state != "" && len(a.state) <= maxStateLen {
		v.Set("state", a.state)
	}
	s.redirect(w, r, appendQuery(a.redirectURI, v))
}

// redirect answers 302 to a GET and 303 to a POST, never cached.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to string) {
	h := w.Header()
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	h.Set("Referrer-Policy", "no-referrer")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	h.Set("Location", to)
	w.WriteHeader(status)
}

// appendQuery adds v to the query of uri (a registered redirect URI,
// which has no fragment).
func appendQuery(uri string, v url.Values) string {
	switch {
	case !strings.Contains(uri, "?"):
		return uri + "?" + v.Encode()
	case strings.HasSuffix(uri, "?") || strings.HasSuffix(uri, "&"):
		return uri + v.Encode()
	}
	return uri + "&" + v.Encode()
}
