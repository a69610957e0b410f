package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// scopeClaims returns the claims scopes release (OpenID Connect Core
// 5.4, and groups).
func scopeClaims(scopes ...string) []string {
	var out []string
	for _, sc := range scopes {
		out = append(out, user.ScopeClaims(sc)...)
	}
	return out
}

// serveUserinfo is the UserInfo endpoint (OpenID Connect Core 5.3): a
// bearer access token (RFC 6750 header) with the openid scope gets the
// user's sub, plus the claims its scopes release (profile, email,
// address, phone, groups: user.ScopeClaims).
func (s *Server) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		oauth.WriteError(w, &oauth.Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "userinfo accepts GET and POST", Allow: "GET, POST"})
		return
	}
	scheme, token, ok := accessToken(r)
	if !ok {
		s.writeTokenError(w, "Bearer", http.StatusUnauthorized, "", "", "")
		return
	}
	c, err := s.checkAccessToken(r.Context(), token)
	switch {
	case errors.Is(err, errTokenInvalid):
		s.writeTokenError(w, scheme, http.StatusUnauthorized, "invalid_token", "the access token is invalid or expired", "")
		return
	case errors.Is(err, errTokenRevoked):
		s.writeTokenError(w, scheme, http.StatusUnauthorized, "invalid_token", "the access token was revoked", "")
		return
	case err != nil:
		s.log.Error("userinfo: checking the access token failed", "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	// A DPoP-bound token (cnf.jkt) comes as DPoP with a proof by its key
	// for this request; an unbound one as Bearer (dpopbinding).
	jkt := ""
	if c.Cnf != nil {
		jkt = c.Cnf.JKT
	}
	if err := s.dpop.Resource(r.Context(), r, scheme, token, jkt); err != nil {
		s.dpop.WriteChallenge(w, err)
		return
	}
	// The token's identity scopes count only while its client still has
	// them (the configuration may have been reloaded since it was issued).
	lc := s.reg.Load().login[c.ClientID]
	scopes := slices.DeleteFunc(strings.Fields(c.Scope), func(sc string) bool {
		return lc == nil || !slices.Contains(lc.identityScopes, sc)
	})
	if !slices.Contains(scopes, scopeOpenID) {
		s.writeTokenError(w, scheme, http.StatusForbidden, "insufficient_scope", "the access token was not granted the openid scope", scopeOpenID)
		return
	}
	// The user must still be active (user.Profiles); the claims are the
	// source's for the token's identity scopes.
	if e := s.userActive(r.Context(), c.Sub); e != nil {
		if e.Code == "invalid_grant" {
			s.writeTokenError(w, scheme, http.StatusUnauthorized, "invalid_token", "the token's user no longer exists", "")
		} else {
			oauth.WriteError(w, e)
		}
		return
	}
	claims, e := s.sourceClaims(r.Context(), user.ClaimsRequest{Subject: c.Sub, ClientID: c.ClientID, Scopes: scopes, Caller: user.CallerUserinfo})
	if e != nil {
		oauth.WriteError(w, e)
		return
	}
	if len(c.UserinfoClaims) > 0 { // the claims parameter's (claimsparam.go)
		asked, e := s.requestedClaims(r.Context(), c.Sub, c.ClientID, c.UserinfoClaims, lc.identityScopes)
		if e != nil {
			oauth.WriteError(w, e)
			return
		}
		claims = mergeClaims(claims, asked)
	}
	out := map[string]any{"sub": c.Sub}
	for k, v := range claims {
		if !reservedClaim(k) {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil { // the user source's values
		s.log.Error("userinfo: encoding the claims failed", "sub", c.Sub, "error", err)
		oauth.WriteError(w, oauth.ServerError())
		return
	}
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	w.Write(b)
}

// accessToken returns the scheme ("Bearer" or "DPoP") and the token of
// an "Authorization: Bearer" or "Authorization: DPoP" header.
func accessToken(r *http.Request) (scheme, token string, ok bool) {
	h := r.Header.Get("Authorization")
	name, t, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(name, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(name, "DPoP"):
		scheme = "DPoP"
	default:
		return "", "", false
	}
	t = strings.TrimSpace(t)
	return scheme, t, t != ""
}

// writeTokenError writes an RFC 6750 section 3 error under scheme
// (Bearer, or DPoP as RFC 9449 section 7.1 uses it, with the proof
// algorithms): WWW-Authenticate with the error, and the same as a JSON
// body. code "" is a request without a token (no error attribute).
func (s *Server) writeTokenError(w http.ResponseWriter, scheme string, status int, code, desc, scope string) {
	v := `Bearer realm="signet"`
	if scheme == "DPoP" {
		v = `DPoP realm="signet"`
	}
	if code != "" {
		v += `, error="` + code + `", error_description="` + oauth.SanitizeDescription(desc) + `"`
	}
	if scope != "" {
		v += `, scope="` + scope + `"`
	}
	if scheme == "DPoP" {
		v += `, algs="` + strings.Join(s.dpop.Algorithms(), " ") + `"`
	}
	h := w.Header()
	h.Add("Www-Authenticate", v)
	if code == "" { // no token: DPoP is offered too (RFC 9449 section 7.1)
		h.Add("Www-Authenticate", s.dpop.Challenge())
	}
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	w.WriteHeader(status)
	if code == "" {
		w.Write([]byte(`{"error":"invalid_request","error_description":"send the access token in an Authorization: Bearer header"}`))
		return
	}
	b := append([]byte(`{"error":`), oauth.AppendJSONString(nil, code)...)
	b = append(b, `,"error_description":`...)
	b = oauth.AppendJSONString(b, oauth.SanitizeDescription(desc))
	w.Write(append(b, '}'))
}
