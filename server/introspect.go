package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/signet-id/signet/clientauth"
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
// or client_id and client_secret in the body). A token is active when
// Signet signed it with a key of the current JWKS, it has not expired or
// been revoked, and the calling resource is in its audience; the answer's
// scope lists only that resource's scopes.
func (s *Server) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	p, e := s.readOAuthForm(r)
	if e == nil {
		if d := p.dup("token", "token_type_hint", "client_id", "client_secret"); d != "" {
			e = oauth.InvalidRequest("parameter " + d + " appears more than once")
		}
	}
	if e != nil {
		oauth.WriteError(w, e)
		return
	}
	reg := s.reg.Load()
	cred := clientauth.BasicCredentials{ID: p.v["client_id"], Secret: p.v["client_secret"]}
	if authz := r.Header.Get("Authorization"); authz != "" {
		var ok bool
		if cred, ok = clientauth.ParseBasicCredentials(authz); !ok {
			oauth.WriteError(w, s.authRefused(r, "API resource", "", "malformed Basic credentials", oauth.InvalidClient("use HTTP Basic with the API resource's name and secret")))
			return
		}
		// A resource named by a URL whose colons the client did not
		// encode is found too (clientauth.BasicCredentials).
		cred.Resolve(func(name string) bool { return len(reg.introspect[name]) > 0 })
		if _, twice := p.v["client_secret"]; twice || (p.v["client_id"] != "" && p.v["client_id"] != cred.ID) {
			oauth.WriteError(w, oauth.InvalidRequest("the API resource authenticated twice (HTTP Basic and client_id or client_secret in the body); use one method"))
			return
		}
	}
	name := cred.ID
	if e := s.checkClientSecret(r, "API resource", cred, reg.introspect[name], reg.introspectDummy, "unknown API resource, or one without secrets"); e != nil {
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
		var scopes []string
		if res := reg.resources[name]; res != nil {
			for _, sc := range strings.Fields(c.Scope) {
				if slices.Contains(res.scopes, sc) {
					scopes = append(scopes, sc)
				}
			}
		}
		out = introspection{Active: true, Scope: strings.Join(scopes, " "), ClientID: c.ClientID, Sub: c.Sub, TokenType: "Bearer",
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
	b, _ := json.Marshal(out) // cannot fail
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	w.Write(b)
}
