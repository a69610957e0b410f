package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/signet-id/signet/connector"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Messages of the login page. The one for a failed sign-in is the same
// whether the username exists or not.
const (
	msgBadCredentials = "The username or password is incorrect."
	msgMissing        = "Enter your username and password."
	msgFormExpired    = "This sign-in form expired or did not come from this site. Please sign in again."
	msgTooMany        = "Too many failed sign-in attempts. Try again in %s."
	msgBusy           = "Signet is busy checking sign-ins. Please try again in a moment."
)

// serveLogin is the login page: GET shows the form for a pending
// authorization request (the query), POST signs in and continues it.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		a, ok := parseAuthorizeRequest(r.URL.RawQuery)
		if !ok {
			s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The request's parameters are not valid URL encoding.")
			return
		}
		req, e := s.checkPending(r, a)
		if e != nil {
			s.authorizeError(w, r, &a, e)
			return
		}
		if s.stepUp(w, r, req) { // a session that lacks the second factor req needs (mfa.go)
			return
		}
		if s.oidc.loginUI != nil {
			s.serveLoginUI(w, r, req, false)
			return
		}
		s.renderLogin(w, r, req, http.StatusOK, "", req.loginHint)
	case http.MethodPost:
		if s.oidc.loginUI != nil {
			s.postLoginUI(w, r)
			return
		}
		s.login(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.oidc.pages.errorPage(w, http.StatusMethodNotAllowed, "Invalid request", "This address accepts GET and POST only.")
	}
}

// login handles the submitted form.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	_, p, req, ok := s.readSignInForm(w, r, "request", "csrf", "username", "password", "cancel", "connector", "connector_form")
	if !ok {
		return
	}
	username, password := p.v["username"], p.v["password"]
	if !csrfValid(r, p.v["csrf"], "login", req.encode()) {
		s.renderLogin(w, r, req, http.StatusForbidden, msgFormExpired, username)
		return
	}
	if p.v["cancel"] != "" { // the Cancel button
		s.cancelSignIn(w, r, req)
		return
	}
	if id := p.v["connector"]; id != "" { // a connector's button or form (connectors.go)
		s.connectorLogin(w, r, req, id, p)
		return
	}
	if _, form := s.loginChoices(r.Context(), req); !form {
		s.log.Info("password sign-in for a client that does not allow it; refused", "client_id", req.clientID)
		s.renderLogin(w, r, req, http.StatusForbidden, msgLocalNotAllowed, "")
		return
	}
	if username == "" || password == "" {
		s.renderLogin(w, r, req, http.StatusBadRequest, msgMissing, username)
		return
	}

	subject, wait, busy := s.checkPassword(r.Context(), r, username, password)
	switch {
	case busy:
		w.Header().Set("Retry-After", "1")
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", msgBusy)
		return
	case wait > 0:
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfter(wait), 10))
		s.renderLogin(w, r, req, http.StatusTooManyRequests, fmt.Sprintf(msgTooMany, roundMinutes(wait)), username)
		return
	case subject == "":
		s.log.Info("sign-in failed", "username", oauth.Clip(username), "client_id", req.clientID, "address", s.logAddr(r))
		s.renderLogin(w, r, req, http.StatusOK, msgBadCredentials, username)
		return
	}
	s.afterFirstFactor(w, r, req, subject, username, Authentication{}.normalized())
}

// signIn starts a login session for subject, who has just signed in, and
// continues req: the built-in page after a password, a custom login page
// through LoginRequest.Complete; auth (normalized) is how.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, req *authzRequest, subject string, auth Authentication) {
	// A new session for every sign-in (no fixation); the previous one of
	// this browser ends, and the codes it was given and did not redeem.
	// issueCode stores all of it, with the new session's first code, in
	// one transaction.
	var end grantstore.Grant
	if old, err := s.currentSession(r); err == nil && old != nil {
		end = grantstore.Grant{ID: old.id, SessionID: old.sid}
	}
	sess, err := s.newSession(subject, end, auth)
	if err != nil {
		s.log.Error("starting a login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	s.log.Info("signed in", "sub", subject, "client_id", req.clientID, "amr", auth.AMR)
	s.continueSignedIn(w, r, req, sess) // consent.go
}

// cancelSignIn ends the sign-in of req without a user (the login page's
// Cancel, LoginRequest.Cancel): the browser goes back to the client with
// access_denied, state and iss (OpenID Connect Core 3.1.2.6, RFC 6749
// 4.1.2.1); a pushed request is used up.
func (s *Server) cancelSignIn(w http.ResponseWriter, r *http.Request, req *authzRequest) {
	s.log.Info("sign-in cancelled", "client_id", req.clientID)
	if s.usePending(w, r, req) {
		s.authorizeError(w, r, &req.authzParams, redirectError("access_denied", "the user cancelled the sign-in"))
	}
}

// checkPending checks the login page's pending request a: a resolved
// pushed request is read back from the store first (par.go).
func (s *Server) checkPending(r *http.Request, a authzParams) (*authzRequest, *authzError) {
	if a.requestURI != "" {
		var e *authzError
		if a, e = s.resolvePending(r.Context(), a); e != nil {
			return nil, e
		}
	}
	return s.checkAuthorize(s.reg.Load(), a)
}

// renderLogin shows the login form for req, with a CSRF token bound to it.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, req *authzRequest, status int, msg, username string) {
	s.renderLoginView(w, r, req, status, msg, username, nil)
}

// renderLoginView is renderLogin; with via, the form of that password
// connector (connectors.go), else the page with the connectors' buttons.
func (s *Server) renderLoginView(w http.ResponseWriter, r *http.Request, req *authzRequest, status int, msg, username string, via connector.Connector) {
	key, err := s.csrfKey(w, r)
	if err != nil {
		s.log.Error("login page: randomness failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot show the sign-in form right now. Please try again in a moment.")
		return
	}
	canonical := req.encode()
	if len(username) > maxHintLen {
		username = ""
	}
	v := loginView{
		ClientID: req.clientID,
		Client:   s.clientView(req.login),
		Action:   s.prefix + PathLogin,
		Request:  canonical,
		CSRF:     csrfToken(key, "login", canonical),
		Username: username,
		Error:    msg,
		Form:     true,
	}
	title := "Sign in"
	if via != nil {
		v.Connector, v.ConnectorName = via.ID(), via.Name()
		title = "Sign in with " + via.Name()
	} else {
		v.Connectors, v.Form = s.loginChoices(r.Context(), req)
	}
	s.oidc.pages.renderFor(w, status, "login.html", title, v, req.login.logoURI)
}

// roundMinutes says how long to wait, in whole minutes (at least one).
func roundMinutes(d time.Duration) string {
	m := int64((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return strconv.FormatInt(m, 10) + " minutes"
}

// readSignInForm reads a posted sign-in form (the built-in page's or a
// custom login UI's) whose fields may each appear once, and the pending
// authorization request it carries; body is the form as read. When it
// returns false it has answered: an error page, or the authorization
// error.
func (s *Server) readSignInForm(w http.ResponseWriter, r *http.Request, fields ...string) (body string, p params, req *authzRequest, ok bool) {
	body, status, reason := s.readForm(r)
	if status != 0 {
		s.oidc.pages.errorPage(w, status, "Invalid request", reason)
		return "", params{}, nil, false
	}
	p, ok = parseParams(body)
	if !ok || p.dup(fields...) != "" {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The sign-in form was not sent correctly.")
		return "", params{}, nil, false
	}
	a, ok := parseAuthorizeRequest(p.v["request"])
	if !ok {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The sign-in form was not sent correctly.")
		return "", params{}, nil, false
	}
	req, e := s.checkPending(r, a)
	if e != nil {
		s.authorizeError(w, r, &a, e)
		return "", params{}, nil, false
	}
	return body, p, req, true
}
