package server

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"sync"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/keymanager"
)

const formContentType = "application/x-www-form-urlencoded"

// serveToken is the token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if e := s.token(w, r); e != nil {
		s.metrics.tokenError(e.code)
		// Server-side causes are logged where they happen, with details.
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("token request refused", "status", e.status, "error", e.code, "reason", e.desc)
		}
		writeOAuthError(w, e)
	}
}

// token handles one request and writes the success response itself; it
// returns the error to write otherwise.
func (s *Server) token(w http.ResponseWriter, r *http.Request) *oauthError {
	if r.Method != http.MethodPost {
		return &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "the token endpoint accepts POST only", allow: http.MethodPost}
	}
	if ct := r.Header.Get("Content-Type"); ct != formContentType {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != formContentType {
			return &oauthError{status: http.StatusUnsupportedMediaType, code: "invalid_request", desc: "the request body must be application/x-www-form-urlencoded"}
		}
	}
	if r.URL.RawQuery != "" {
		return invalidRequest("send token request parameters in the body, not the URL query")
	}
	if r.ContentLength > s.maxBody {
		return &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", desc: "the request body is too large"}
	}
	sc := getTokenScratch()
	defer putTokenScratch(sc)
	var body []byte
	var err error
	if r.ContentLength > 0 { // known length: one exact read
		sc.body = slices.Grow(sc.body[:0], int(r.ContentLength))[:r.ContentLength]
		body = sc.body
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	}
	if err != nil {
		return invalidRequest("the request body could not be read")
	}
	if int64(len(body)) > s.maxBody {
		return &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", desc: "the request body is too large"}
	}
	req, e := parseTokenRequest(string(body))
	if e != nil {
		return e
	}
	if req.grantType == "" {
		return invalidRequest("grant_type is missing")
	}
	if s.oidc != nil && (req.grantType == grantAuthorizationCode || req.grantType == grantRefreshToken) {
		return s.userToken(w, r, string(body)) // the login flows (usertoken.go)
	}
	if req.grantType != grantClientCredentials { // before client authentication: a public client gets this too
		return s.unsupportedGrant(req.grantType)
	}

	// Client authentication: client_secret_basic or client_secret_post.
	var cred clientauth.BasicCredentials
	reg := s.reg.Load()
	switch authz := r.Header.Get("Authorization"); {
	case authz != "":
		if !clientauth.IsBasic(authz) {
			return invalidClient("unsupported Authorization scheme; use Basic (client_secret_basic) or client_id and client_secret in the body")
		}
		var ok bool
		if cred, ok = clientauth.ParseBasicCredentials(authz); !ok {
			return s.authRefused(r, "client", "", "malformed Basic credentials", invalidClient("malformed Basic credentials"))
		}
		if req.hasSecret {
			return invalidRequest("the client authenticated twice (client_secret_basic and client_secret_post); use one method")
		}
		cred.Resolve(func(id string) bool { return reg.clients[id] != nil })
		if req.clientID != "" && req.clientID != cred.ID {
			return invalidRequest("client_id in the body differs from the Basic credentials")
		}
	case req.hasSecret:
		if req.clientID == "" {
			return invalidRequest("client_secret was sent without client_id")
		}
		cred = clientauth.BasicCredentials{ID: req.clientID, Secret: req.clientSecret}
	default:
		return invalidClient("no client authentication; use HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post)")
	}
	cl := reg.clients[cred.ID]
	var secrets []*clientauth.Secret
	if cl != nil {
		secrets = cl.secrets
	}
	if e := s.checkClientSecret(r, "client", cred, secrets, reg.dummy, "unknown client"); e != nil {
		return e
	}

	if !cl.clientCredentials {
		return &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", desc: "the client may not use the client_credentials grant"}
	}

	g, e := clientCredentialsGrant(reg, cl, &req)
	if e != nil {
		return e
	}

	k, err := s.keys.SigningKey(g.algs)
	if err != nil {
		if errors.Is(err, keymanager.ErrNoAllowedAlgorithm) {
			return invalidTarget("no signing key for the algorithms the requested resources allow")
		}
		s.log.Warn("no key can sign", "error", err)
		return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: "no signing key is ready; retry shortly"}
	}
	sp := s.startSign(r.Context(), k, jws.TypeAccessToken)
	out, e := s.appendTokenResponse(sc, k, cl, g)
	endSign(sp, e != nil)
	if e != nil {
		return e
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	w.Write(out)
	s.metrics.tokenIssued(grantClientCredentials, string(k.Algorithm()))
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("token issued", "client_id", cl.id, "kid", k.KID(), "alg", string(k.Algorithm()), "scope", g.scope)
	}
	return nil
}

// unsupportedGrant is the answer to a grant type this server does not
// serve; it names the ones it does.
func (s *Server) unsupportedGrant(grantType string) *oauthError {
	supported := "client_credentials"
	if s.oidc != nil {
		supported = "authorization_code, client_credentials, refresh_token"
	}
	return &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type",
		desc: "grant type '" + clip(grantType) + "' is not supported; this server supports " + supported}
}

// tokenScratch is the memory of one token request: its body, the
// claims, and the response with the token inside it. It is pooled, so
// building a token allocates nothing; nothing in it outlives the request
// (w.Write copies the response, parseTokenRequest gets a copy of the
// body).
type tokenScratch struct {
	body   []byte
	jti    [16]byte
	claims []byte
	out    []byte
}

// tokenScratchPool holds *tokenScratch. A pool, not a field of Server:
// it is a cache with no observable state.
var tokenScratchPool = sync.Pool{New: func() any {
	return &tokenScratch{body: make([]byte, 0, 256), claims: make([]byte, 0, 512), out: make([]byte, 0, 1536)}
}}

// maxPooledScratch bounds the buffers put back in the pool, so one huge
// request does not pin its memory.
const maxPooledScratch = 16 << 10

func getTokenScratch() *tokenScratch { return tokenScratchPool.Get().(*tokenScratch) }

func putTokenScratch(sc *tokenScratch) {
	if cap(sc.body) > maxPooledScratch || cap(sc.claims) > maxPooledScratch || cap(sc.out) > maxPooledScratch {
		return
	}
	tokenScratchPool.Put(sc)
}

// appendTokenResponse builds the RFC 9068 claims, signs them and returns
// the token response, all in sc.
func (s *Server) appendTokenResponse(sc *tokenScratch, k *jws.Key, cl *client, g *grant) ([]byte, *oauthError) {
	if _, err := io.ReadFull(s.rand, sc.jti[:]); err != nil {
		s.log.Error("token id: reading randomness failed", "error", err)
		return nil, &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "internal error; the server log has the details"}
	}
	iat := s.now().Unix()
	p := sc.claims[:0]
	p = append(p, `{"iss":`...)
	p = append(p, s.issuerJSON...)
	p = append(p, `,"exp":`...)
	p = appendInt(p, iat+cl.lifetime)
	p = append(p, `,"aud":`...)
	p = append(p, g.audJSON...)
	p = append(p, cl.subJSON...)
	p = append(p, `,"iat":`...)
	p = appendInt(p, iat)
	p = append(p, `,"nbf":`...)
	p = appendInt(p, iat)
	p = append(p, `,"jti":"`...)
	p = base64.RawURLEncoding.AppendEncode(p, sc.jti[:])
	p = append(p, `","scope":`...)
	p = append(p, g.scopeJSON...)
	p = append(p, '}')
	sc.claims = p

	const head, mid = `{"access_token":"`, `","token_type":"Bearer","expires_in":`
	out := slices.Grow(sc.out[:0], len(head)+k.SignedLen(jws.TypeAccessToken, len(p))+len(mid)+20+len(`,"scope":`)+len(g.scopeJSON)+1)
	out = append(out, head...)
	out, err := k.AppendSign(out, jws.TypeAccessToken, p)
	if err != nil {
		return nil, s.signFailed("an access token", k, err)
	}
	out = append(out, mid...)
	out = appendInt(out, cl.lifetime)
	out = append(out, `,"scope":`...)
	out = append(out, g.scopeJSON...)
	out = append(out, '}')
	sc.out = out
	return out, nil
}

// clientCredentialsGrant returns what a client_credentials token for cl
// carries, given the request's scope and resource parameters. A request
// without them gets the client's default grant; others are computed once
// and remembered by the client (client.grants): a repeated request skips
// parsing its scope and working out audience and algorithms. Only grants
// are remembered, never errors; a configuration reload makes new clients,
// so it starts afresh.
func clientCredentialsGrant(reg *registry, cl *client, req *tokenRequest) (*grant, *oauthError) {
	if req.scope == "" && len(req.resources) == 0 {
		return cl.def, cl.defErr
	}
	ck, cacheable := grantKey{scope: req.scope}, len(req.resources) <= 1
	if len(req.resources) == 1 {
		ck.resource = req.resources[0]
	}
	if cacheable {
		if g, ok := cl.grants.load(ck); ok {
			return g, nil
		}
	}
	scopes, e := parseScope(req.scope)
	if e != nil {
		return nil, e
	}
	g, e := reg.grant(cl, scopes, req.resources)
	if e != nil {
		return nil, e
	}
	if cacheable {
		cl.grants.store(ck, g, maxCachedGrants)
	}
	return g, nil
}

// grantKey is a request's raw scope and resource parameters.
type grantKey struct{ scope, resource string }

// maxCachedGrants bounds a client's remembered grants: a client that
// varies its requests (scope order, duplicates) gets its grants computed
// each time beyond that, not unbounded memory.
const maxCachedGrants = 16
