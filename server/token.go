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

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/dpopbinding"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/oauth"
)

const formContentType = "application/x-www-form-urlencoded"

// serveToken is the token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if e := s.token(w, r); e != nil {
		s.metrics.tokenError(e.Code)
		// Server-side causes are logged where they happen, with details.
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("token request refused", "status", e.Status, "error", e.Code, "reason", e.Desc)
		}
		oauth.WriteError(w, e)
	}
}

// token handles one request and writes the success response itself; it
// returns the error to write otherwise.
func (s *Server) token(w http.ResponseWriter, r *http.Request) *oauth.Error {
	if r.Method != http.MethodPost {
		return &oauth.Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "the token endpoint accepts POST only", Allow: http.MethodPost}
	}
	if ct := r.Header.Get("Content-Type"); ct != formContentType {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != formContentType {
			return &oauth.Error{Status: http.StatusUnsupportedMediaType, Code: "invalid_request", Desc: "the request body must be application/x-www-form-urlencoded"}
		}
	}
	if r.URL.RawQuery != "" {
		return oauth.InvalidRequest("send token request parameters in the body, not the URL query")
	}
	if r.ContentLength > s.maxBody {
		return &oauth.Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Desc: "the request body is too large"}
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
		return oauth.InvalidRequest("the request body could not be read")
	}
	if int64(len(body)) > s.maxBody {
		return &oauth.Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Desc: "the request body is too large"}
	}
	req, e := parseTokenRequest(string(body))
	if e != nil {
		return e
	}
	if req.grantType == "" {
		return oauth.InvalidRequest("grant_type is missing")
	}
	h := s.grantTypes[req.grantType]
	if h == nil { // before client authentication: a public client gets this too
		return s.unsupportedGrant(req.grantType)
	}

	// Client authentication: private_key_jwt, client_secret_basic or
	// client_secret_post; none (client_id alone) too for the grants
	// public clients use, whose requests are parsed again with every
	// parameter.
	reg := s.reg.Load()
	sc.reg = reg
	ar := &sc.authn
	*ar = clientauthn.Request{HTTP: r, ClientID: req.clientID, Secret: req.clientSecret, HasSecret: req.hasSecret,
		Assertion: req.assertion, AssertionType: req.assertionType, Clients: reg, Dummies: reg.dummy}
	methods, noAuth := s.secretMethods, noConfidentialAuth
	gr := &sc.req
	*gr = granttype.Request{HTTP: r, GrantType: req.grantType, Scope: req.scope, Resources: req.resources, State: sc}
	if h.Public() {
		ureq, e := parseUserTokenRequest(string(body))
		if e != nil {
			return e
		}
		ar.ClientID, ar.Secret, ar.HasSecret, ar.Public = ureq.clientID, ureq.clientSecret, ureq.hasSecret, true
		methods, noAuth = s.clientMethods, noClientAuth
		gr.Form = ureq.form
	}
	ac, e := clientauthn.Authenticate(ar, methods, noAuth)
	if e != nil {
		return e
	}
	if e := s.profileAuthn(r, reg, ac.ID, ar.Used); e != nil {
		return e
	}
	gr.Client = &reg.login[ac.ID].Client
	// DPoP (server/internal/dpopbinding): a proof binds the tokens to its
	// key; its jti is recorded now that the client is authenticated.
	cl := reg.clients[ac.ID]
	if gr.DPoPJKT, e = s.dpop.Token(r.Context(), r, dpopbinding.Client{ID: ac.ID, Required: cl.requireDPoP, Algorithms: cl.dpopAlgs}); e != nil {
		return e
	}

	resp, e := h.Handle(gr)
	if e == errRetryFromStore { // unusedgrants.go: once more, the grant read from the store
		resp, e = h.Handle(gr)
	}
	if e != nil {
		return e
	}
	hd := w.Header()
	if n := s.dpop.Nonce(); n != "" {
		hd.Set("DPoP-Nonce", n)
	}
	hd["Content-Type"] = oauth.HdrJSON
	hd["Cache-Control"] = oauth.HdrNoStore
	hd["Pragma"] = oauth.HdrNoCache
	w.Write(resp.Body)
	s.metrics.tokenIssued(req.grantType, resp.Alg)
	return nil
}

// The answers to a request without client authentication, where only
// confidential clients may ask (client_credentials) and where public
// clients may too.
const (
	noConfidentialAuth = "no client authentication; use HTTP Basic (client_secret_basic), client_id and client_secret in the body (client_secret_post), or a client assertion (private_key_jwt)"
	noClientAuth       = "no client authentication; send client_id (public clients), authenticate with a client secret, or send a client assertion (private_key_jwt)"
)

// IssueAccessToken signs a client_credentials access token
// (granttype/clientcredentials.Env): the grant for the request's scope
// and resources, the key, the claims and the response, in the request's
// pooled memory.
func (e ccEnv) IssueAccessToken(gr *granttype.Request) (*granttype.Response, *oauth.Error) {
	s, sc := e.s, gr.State.(*tokenScratch)
	r, reg := gr.HTTP, sc.reg
	cl := reg.clients[gr.Client.ID]
	g, oe := clientCredentialsGrant(reg, cl, gr)
	if oe != nil {
		return nil, oe
	}

	k, err := s.keys.SigningKey(g.algs)
	if err != nil {
		if errors.Is(err, keymanager.ErrNoAllowedAlgorithm) {
			return nil, oauth.InvalidTarget("no signing key for the algorithms the requested resources allow")
		}
		s.log.Warn("no key can sign", "error", err)
		return nil, &oauth.Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Desc: "no signing key is ready; retry shortly"}
	}
	sp := s.startSign(r.Context(), k, jws.TypeAccessToken)
	out, oe := s.appendTokenResponse(sc, k, cl, g, gr.DPoPJKT)
	endSign(sp, oe != nil)
	if oe != nil {
		return nil, oe
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("token issued", "client_id", cl.id, "kid", k.KID(), "alg", string(k.Algorithm()), "scope", g.scope)
	}
	sc.resp = granttype.Response{Body: out, Alg: string(k.Algorithm())}
	return &sc.resp, nil
}

// unsupportedGrant is the answer to a grant type this server does not
// serve; it names the ones it does.
func (s *Server) unsupportedGrant(grantType string) *oauth.Error {
	supported := "client_credentials"
	if s.oidc != nil {
		supported = "authorization_code, client_credentials, refresh_token"
	}
	return &oauth.Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
		Desc: "grant type '" + oauth.Clip(grantType) + "' is not supported; this server supports " + supported}
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
	// The pipeline's values for the request (cleared when put back).
	reg   *registry
	authn clientauthn.Request
	req   granttype.Request
	resp  granttype.Response
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
	sc.reg, sc.authn, sc.req, sc.resp = nil, clientauthn.Request{}, granttype.Request{}, granttype.Response{}
	tokenScratchPool.Put(sc)
}

// appendTokenResponse builds the RFC 9068 claims, signs them and returns
// the token response, all in sc. With jkt, the token is DPoP-bound (RFC
// 9449 section 6: cnf.jkt, token_type DPoP).
func (s *Server) appendTokenResponse(sc *tokenScratch, k *jws.Key, cl *client, g *grant, jkt string) ([]byte, *oauth.Error) {
	if _, err := io.ReadFull(s.rand, sc.jti[:]); err != nil {
		s.log.Error("token id: reading randomness failed", "error", err)
		return nil, &oauth.Error{Status: http.StatusInternalServerError, Code: "server_error", Desc: "internal error; the server log has the details"}
	}
	iat := s.now().Unix()
	p := sc.claims[:0]
	p = append(p, `{"iss":`...)
	p = append(p, s.issuerJSON...)
	p = append(p, `,"exp":`...)
	p = oauth.AppendInt(p, iat+cl.lifetime)
	p = append(p, `,"aud":`...)
	p = append(p, g.audJSON...)
	p = append(p, cl.subJSON...)
	p = append(p, `,"iat":`...)
	p = oauth.AppendInt(p, iat)
	p = append(p, `,"nbf":`...)
	p = oauth.AppendInt(p, iat)
	p = append(p, `,"jti":"`...)
	p = base64.RawURLEncoding.AppendEncode(p, sc.jti[:])
	p = append(p, `","scope":`...)
	p = append(p, g.scopeJSON...)
	if jkt != "" { // a thumbprint: base64url, nothing to escape
		p = append(p, `,"cnf":{"jkt":"`...)
		p = append(p, jkt...)
		p = append(p, `"}`...)
	}
	p = append(p, '}')
	sc.claims = p

	head, mid := `{"access_token":"`, `","token_type":"Bearer","expires_in":`
	if jkt != "" {
		mid = `","token_type":"DPoP","expires_in":`
	}
	out := slices.Grow(sc.out[:0], len(head)+k.SignedLen(jws.TypeAccessToken, len(p))+len(mid)+20+len(`,"scope":`)+len(g.scopeJSON)+1)
	out = append(out, head...)
	out, err := k.AppendSign(out, jws.TypeAccessToken, p)
	if err != nil {
		return nil, s.signFailed("an access token", k, err)
	}
	out = append(out, mid...)
	out = oauth.AppendInt(out, cl.lifetime)
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
func clientCredentialsGrant(reg *registry, cl *client, req *granttype.Request) (*grant, *oauth.Error) {
	if req.Scope == "" && len(req.Resources) == 0 {
		return cl.def, cl.defErr
	}
	ck, cacheable := grantKey{scope: req.Scope}, len(req.Resources) <= 1
	if len(req.Resources) == 1 {
		ck.resource = req.Resources[0]
	}
	if cacheable {
		if g, ok := cl.grants.load(ck); ok {
			return g, nil
		}
	}
	scopes, e := oauth.ParseScope(req.Scope)
	if e != nil {
		return nil, e
	}
	g, e := reg.grant(cl, scopes, req.Resources)
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
