package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/oauth"
)

// introspection is an RFC 7662 answer for an active token.
type introspection struct {
	Active    bool            `json:"active"`
	Scope     string          `json:"scope,omitempty"`
	ClientID  string          `json:"client_id,omitempty"`
	Sub       string          `json:"sub,omitempty"`
	TokenType string          `json:"token_type,omitempty"`
	Exp       int64           `json:"exp,omitempty"`
	Iat       int64           `json:"iat,omitempty"`
	Nbf       int64           `json:"nbf,omitempty"`
	Aud       json.RawMessage `json:"aud,omitempty"`
	Iss       string          `json:"iss,omitempty"`
	Jti       string          `json:"jti,omitempty"`
	// Cnf is a DPoP-bound token's key thumbprint (RFC 9449 section 6.2).
	Cnf *confirmation `json:"cnf,omitempty"`
}

// serveIntrospect is the introspection endpoint (RFC 7662). An API
// resource authenticates with its name and one of its secrets (HTTP Basic,
// or client_id and client_secret in the body), or, when it has keys, with
// a private_key_jwt assertion whose iss and sub are its name
// (authenticateResource). A token is active when
// Signet signed it with a key of the current JWKS, it has not expired or
// been revoked, and the calling resource is in its audience; the answer's
// scope lists only that resource's scopes.
func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	p, e := s.readOAuthForm(r)
	defer p.release() // nothing below keeps the map
	if e == nil {
		if d := p.dup("token", "token_type_hint", "client_id", "client_secret", "client_assertion", "client_assertion_type"); d != "" {
			e = oauth.InvalidRequest("parameter " + d + " appears more than once")
		}
	}
	if e != nil {
		oauth.WriteError(w, e)
		return
	}
	reg := s.reg.Load()
	name, e := s.authenticateResource(r, p, reg)
	if e != nil {
		oauth.WriteError(w, e)
		return
	}
	token := p.v["token"]
	if token == "" {
		oauth.WriteError(w, oauth.InvalidRequest("token is missing"))
		return
	}
	out := introspection{}
	c, err := s.checkAccessToken(r.Context(), token)
	switch {
	case err == nil && hasAudience(c.Aud, name):
		var scope string
		if res := reg.resources[name]; res != nil {
			scope = resourceScope(c.Scope, res.scopes)
		}
		out = introspection{Active: true, Scope: scope, ClientID: c.ClientID, Sub: c.Sub, TokenType: "Bearer",
			Exp: c.Exp, Iat: c.Iat, Nbf: c.Nbf, Aud: c.Aud, Iss: c.Iss, Jti: c.Jti, Cnf: c.Cnf}
		if c.Cnf != nil {
			out.TokenType = "DPoP"
		}
	case err == nil, errors.Is(err, errTokenInvalid), errors.Is(err, errTokenRevoked):
	default:
		s.log.Error("introspection: checking the token failed", "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	buf := introspectBufPool.Get().(*[]byte)
	*buf = marshalIntrospection((*buf)[:0], &out)
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	w.Write(*buf)
	if cap(*buf) <= maxPooledScratch {
		introspectBufPool.Put(buf)
	}
}

// authenticateResource authenticates the API resource calling the
// introspection endpoint and returns its name: by private_key_jwt when
// the body has client_assertion or client_assertion_type (a resource with
// keys, whose assertion Signet accepts once), else by a secret (a
// resource with keys has none, so its secrets are refused).
func (s *Server) authenticateResource(r *http.Request, p params, reg *registry) (string, *oauth.Error) {
	_, hasSecret := p.v["client_secret"]
	if p.v["client_assertion"] != "" || p.v["client_assertion_type"] != "" {
		ar := &clientauthn.Request{HTTP: r, ClientID: p.v["client_id"], Secret: p.v["client_secret"], HasSecret: hasSecret,
			Assertion: p.v["client_assertion"], AssertionType: p.v["client_assertion_type"], Clients: resourceAuthn{reg}}
		res, e := clientauthn.Authenticate(ar, s.introspectMethods, "")
		if e != nil {
			return "", e
		}
		return res.ID, nil
	}
	cred := clientauth.BasicCredentials{ID: p.v["client_id"], Secret: p.v["client_secret"]}
	if authz := r.Header.Get("Authorization"); authz != "" {
		var ok bool
		if cred, ok = clientauth.ParseBasicCredentials(authz); !ok {
			return "", s.authRefused(r, "API resource", "", "malformed Basic credentials", oauth.InvalidClient("use HTTP Basic with the API resource's name and secret"))
		}
		// A resource named by a URL whose colons the client did not
		// encode is found too (clientauth.BasicCredentials).
		cred.Resolve(func(name string) bool { return len(reg.introspect[name]) > 0 })
		if hasSecret || (p.v["client_id"] != "" && p.v["client_id"] != cred.ID) {
			return "", oauth.InvalidRequest("the API resource authenticated twice (HTTP Basic and client_id or client_secret in the body); use one method")
		}
	}
	unknown := "unknown API resource, or one without secrets"
	if res := reg.resources[cred.ID]; res != nil && res.authn.Assertions != nil {
		unknown = "a secret from a private_key_jwt API resource"
	}
	if e := s.checkClientSecret(r, "API resource", cred, reg.introspect[cred.ID], reg.introspectDummy, unknown); e != nil {
		return "", e
	}
	return cred.ID, nil
}
