package server

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

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
	var body []byte
	var err error
	if r.ContentLength > 0 { // known length: one exact read
		body = make([]byte, r.ContentLength)
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

	// Client authentication: client_secret_basic or client_secret_post.
	var id, secret string
	switch authz := r.Header.Get("Authorization"); {
	case authz != "":
		if !clientauth.IsBasic(authz) {
			return invalidClient("unsupported Authorization scheme; use Basic (client_secret_basic) or client_id and client_secret in the body")
		}
		var ok bool
		if id, secret, ok = clientauth.ParseBasic(authz); !ok {
			return invalidClient("malformed Basic credentials")
		}
		if req.hasSecret {
			return invalidRequest("the client authenticated twice (client_secret_basic and client_secret_post); use one method")
		}
		if req.clientID != "" && req.clientID != id {
			return invalidRequest("client_id in the body differs from the Basic credentials")
		}
	case req.hasSecret:
		if req.clientID == "" {
			return invalidRequest("client_secret was sent without client_id")
		}
		id, secret = req.clientID, req.clientSecret
	default:
		return invalidClient("no client authentication; use HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post)")
	}
	reg := s.reg.Load()
	cl := reg.clients[id]
	if cl == nil {
		clientauth.VerifyAny(reg.dummy, secret)
		return invalidClient("client authentication failed")
	}
	if !clientauth.VerifyAny(cl.secrets, secret) {
		return invalidClient("client authentication failed")
	}

	if req.grantType != grantClientCredentials {
		return &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", desc: "grant type '" + clip(req.grantType) + "' is not supported; use client_credentials"}
	}
	if !cl.clientCredentials {
		return &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", desc: "the client may not use the client_credentials grant"}
	}

	g, e := cl.def, cl.defErr
	if req.scope != "" || len(req.resources) > 0 {
		scopes, e := parseScope(req.scope)
		if e != nil {
			return e
		}
		g, e = reg.grant(cl, scopes, req.resources)
		if e != nil {
			return e
		}
	} else if e != nil {
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
	token, e := s.sign(k, cl, g)
	if e != nil {
		return e
	}

	out := make([]byte, 0, len(token)+64+len(g.scopeJSON))
	out = append(out, `{"access_token":"`...)
	out = append(out, token...)
	out = append(out, `","token_type":"Bearer","expires_in":`...)
	out = appendInt(out, cl.lifetime)
	out = append(out, `,"scope":`...)
	out = append(out, g.scopeJSON...)
	out = append(out, '}')
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

// sign builds the RFC 9068 claims and signs them.
func (s *Server) sign(k *jws.Key, cl *client, g *grant) (string, *oauthError) {
	var jti [16]byte
	if _, err := io.ReadFull(s.rand, jti[:]); err != nil {
		s.log.Error("token id: reading randomness failed", "error", err)
		return "", &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "internal error; the server log has the details"}
	}
	iat := s.now().Unix()
	p := make([]byte, 0, 160+len(s.issuerJSON)+len(cl.subJSON)+len(g.audJSON)+len(g.scopeJSON))
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
	p = base64.RawURLEncoding.AppendEncode(p, jti[:])
	p = append(p, `","scope":`...)
	p = append(p, g.scopeJSON...)
	p = append(p, '}')
	tok, err := k.Sign(jws.TypeAccessToken, p)
	if err != nil {
		s.log.Error("signing a token failed", "kid", k.KID(), "alg", string(k.Algorithm()), "error", err)
		return "", &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "internal error; the server log has the details"}
	}
	return tok, nil
}
