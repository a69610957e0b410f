package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// serveEndSession is RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0). With an id_token_hint for the signed-in user the session
// ends at once; otherwise the user confirms on a page (a POST with a CSRF
// token), so another site cannot sign them out. post_logout_redirect_uri
// must be registered for the client named by the hint or client_id; the
// user is then sent there with state. Ending the login session does not
// revoke refresh tokens (offline_access outlives it); revoke those at the
// revocation endpoint.
func (s *Server) serveEndSession(w http.ResponseWriter, r *http.Request) {
	raw, ok := s.readAuthorizeParams(w, r)
	if !ok {
		return
	}
	p, ok := parseParams(raw)
	if !ok {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The request's parameters are not valid URL encoding.")
		return
	}
	if d := p.dup("id_token_hint", "post_logout_redirect_uri", "state", "client_id", "csrf"); d != "" {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The parameter "+d+" appears more than once.")
		return
	}
	clientID, redirect, state := p.v["client_id"], p.v["post_logout_redirect_uri"], p.v["state"]
	var hint *idTokenClaims
	if h := p.v["id_token_hint"]; h != "" {
		// An expired ID token is a good hint: it names the client and
		// the user, and it is signed.
		payload, err := s.verifyJWT(h, "JWT")
		var c idTokenClaims
		if err != nil || json.Unmarshal(payload, &c) != nil || c.Iss != s.issuer {
			s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The application sent an id_token_hint that is not an ID token from this server.")
			return
		}
		if clientID != "" && clientID != c.Aud {
			s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The application sent a client_id that differs from its id_token_hint.")
			return
		}
		hint, clientID = &c, c.Aud
	} else if clientID != "" && s.reg.Load().login[clientID] == nil {
		s.log.Info("end session: unknown client_id", "client_id", oauth.Clip(clientID), "address", s.logAddr(r))
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The application that sent you here is not known to this server. You are still signed in.")
		return
	}
	if redirect != "" {
		lc := s.reg.Load().login[clientID]
		if clientID == "" || lc == nil || !slices.Contains(lc.postLogoutURIs, redirect) {
			s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request",
				"The application asked to return to an address that is not registered for it (post_logout_redirect_uri needs a registered URI and an id_token_hint or client_id). You are still signed in.")
			return
		}
	}
	sess, err := s.currentSession(r)
	if err != nil {
		s.log.Error("end session: reading the login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you out right now. Please try again in a moment.")
		return
	}
	bound := url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {redirect}, "state": {state}}.Encode()
	if sess != nil {
		confirmed := r.Method == http.MethodPost && csrfValid(r, p.v["csrf"], "logout", bound)
		asked := hint != nil && hint.Sub == sess.subject && (hint.Sid == "" || hint.Sid == sess.sid)
		if !confirmed && !asked {
			status, msg := http.StatusOK, ""
			if r.Method == http.MethodPost {
				status, msg = http.StatusForbidden, "This sign-out form expired or did not come from this site. Please confirm again."
			}
			key, err := s.csrfKey(w, r)
			if err != nil {
				s.log.Error("end session: randomness failed", "error", err)
				s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot sign you out right now. Please try again in a moment.")
				return
			}
			s.oidc.pages.render(w, status, "logout.html", "Sign out?", logoutView{Username: s.displayName(r.Context(), sess.subject), ClientID: clientID, ClientName: s.clientName(clientID),
				Action: s.prefix + PathEndSession, CSRF: csrfToken(key, "logout", bound), PostLogoutRedirectURI: redirect, State: state, Error: msg})
			return
		}
		if err := s.endLoginSession(r.Context(), sess); err != nil {
			s.log.Error("end session: revoking the login session failed", "error", err)
			s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you out right now. Please try again in a moment.")
			return
		}
		s.log.Info("signed out", "sub", sess.subject, "client_id", clientID)
	} else if hint != nil && hint.Sid != "" && !s.endSessionBySid(w, r, hint, clientID) {
		return
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	if redirect != "" {
		to := redirect
		if state != "" {
			to = appendQuery(redirect, url.Values{"state": {state}})
		}
		s.redirect(w, r, to)
		return
	}
	s.oidc.pages.render(w, http.StatusOK, "signedout.html", "Signed out", nil)
}

// endSessionBySid ends the login session an ID token names by its sid,
// for a request without the session's cookie: server-side logout, as
// oauth2-proxy's backend logout and zitadel/oidc's EndSession send it.
// The session's unredeemed codes end with it; its refresh tokens stay
// (offline_access outlives the session), as with the cookie. It writes an
// error page and returns false when the store fails.
func (s *Server) endSessionBySid(w http.ResponseWriter, r *http.Request, hint *idTokenClaims, clientID string) bool {
	rv, ok := s.oidc.grants.(grantstore.SessionKindRevoker)
	if !ok {
		s.log.Warn("end session: the grant store cannot end a session by its sid", "client_id", clientID)
		return true
	}
	n, err := rv.RevokeSessionKind(r.Context(), hint.Sid, grantstore.KindSession, s.now())
	if err != nil {
		s.log.Error("end session: revoking the login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you out right now. Please try again in a moment.")
		return false
	}
	s.deleteSessionCodes(r.Context(), hint.Sid)
	if n > 0 {
		s.log.Info("signed out by the application (server-side logout)", "sub", hint.Sub, "sid", hint.Sid, "client_id", clientID)
	}
	return true
}
