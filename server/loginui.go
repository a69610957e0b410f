package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// LoginUI is an application's own login page (Config.Login). The server
// calls ServeLogin for every GET and POST to its login path (PathLogin)
// instead of showing its own page, once it has checked the pending
// authorization request; on a POST, it has also checked that the form
// came from a page it handed to this browser (CSRF).
//
// ServeLogin shows a form (GET), or reads the form and ends the sign-in
// (POST): [LoginRequest.Complete] with the subject who signed in, or
// [LoginRequest.Cancel]. What the app must do to stay safe:
//
//   - post the form (application/x-www-form-urlencoded) to
//     [LoginRequest.Action] with the inputs of [LoginRequest.HiddenFields]
//     (they carry the pending request and the CSRF token that binds it to
//     this browser); r.Body still holds the whole form;
//   - check passwords with [LoginRequest.CheckPassword], so that the
//     server's login budgets count every guess (or count them yourself);
//   - end a sign-in only on a POST ([LoginRequest.Posted]): Complete
//     refuses anything else, so a link on another site cannot sign a
//     browser in (login CSRF). A sign-in that leaves the site (an
//     upstream identity provider) carries [LoginRequest.Continuation]
//     through the round trip and ends on the way back with
//     [Server.ResumeLogin], which checks that it is the same browser;
//   - escape what it shows: the client id, the scopes and login_hint are
//     the request's, typed by anyone.
//
// After Complete (or CompleteWith, which records how the user signed in:
// amr, acr) the server asks for its second factor when the user has one
// or a policy requires one (Config.MFA, Client.RequireMFA, acr_values),
// on its own pages. Then it starts a new login session (the browser's
// previous session ends: no session fixation), sets the session cookie
// and redirects to the client as after its own page. The response is
// sent with Cache-Control: no-store, X-Frame-Options: DENY,
// X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer already
// set; add a Content-Security-Policy for your page.
type LoginUI interface {
	ServeLogin(w http.ResponseWriter, r *http.Request, req *LoginRequest)
}

// LoginUIFunc adapts a function to LoginUI.
type LoginUIFunc func(w http.ResponseWriter, r *http.Request, req *LoginRequest)

// ServeLogin calls f.
func (f LoginUIFunc) ServeLogin(w http.ResponseWriter, r *http.Request, req *LoginRequest) {
	f(w, r, req)
}

// Errors of LoginRequest.CheckPassword, besides user.ErrInvalidCredentials
// and user.ErrUnavailable.
var (
	// ErrTooManyAttempts: a login budget is spent (too many failed
	// sign-ins for the username or from the address). The error is a
	// *TooManyAttemptsError, which says when to retry.
	ErrTooManyAttempts = errors.New("server: too many failed sign-in attempts")
	// ErrNotPosted: a password is checked only on a POST of the login
	// form that the server verified (LoginRequest.Posted).
	ErrNotPosted = errors.New("server: passwords are checked only on a POST of the login form")
	// ErrInvalidContinuation: ResumeLogin was given a continuation that is
	// malformed, made for another browser, or whose authorization request
	// is no longer valid.
	ErrInvalidContinuation = errors.New("server: the sign-in cannot be resumed")
)

// TooManyAttemptsError is ErrTooManyAttempts with the wait.
type TooManyAttemptsError struct {
	// RetryAfter is how long until an attempt is allowed again.
	RetryAfter time.Duration
}

func (e *TooManyAttemptsError) Error() string {
	return ErrTooManyAttempts.Error() + "; retry after " + strconv.FormatInt(retryAfter(e.RetryAfter), 10) + " seconds"
}

// Unwrap returns ErrTooManyAttempts.
func (e *TooManyAttemptsError) Unwrap() error { return ErrTooManyAttempts }

// LoginRequest is a pending authorization request handed to a LoginUI:
// what the page may show, and the ways to end it. It is valid for the
// request it was handed with.
type LoginRequest struct {
	// ClientID is the client that asked for the sign-in.
	ClientID string
	// Scopes are the scopes it asked for, as granted if the user signs in.
	Scopes []string
	// LoginHint is the request's login_hint ("" when none): a username to
	// prefill, as the client suggests it.
	LoginHint string
	// Prompt is the request's prompt parameter ("login": the client asked
	// for a new sign-in even though the browser has a session).
	Prompt string

	s      *Server
	req    *authzRequest
	csrf   string
	posted bool
	ended  bool
}

// ID identifies the pending request: the value of the "request" hidden
// field. It is URL-safe; treat it as opaque.
func (lr *LoginRequest) ID() string { return lr.req.encode() }

// Action is where the login form posts: the server's login path, which
// hands the POST back to ServeLogin.
func (lr *LoginRequest) Action() string { return lr.s.prefix + PathLogin }

// HiddenFields are the inputs a login form must carry: "request" (ID) and
// "csrf", a token that binds the pending request to this browser.
func (lr *LoginRequest) HiddenFields() url.Values {
	return url.Values{"request": {lr.ID()}, "csrf": {lr.csrf}}
}

// Posted reports whether r is a POST of the login form whose CSRF token
// the server verified, or a request resumed with Server.ResumeLogin: the
// only requests on which CheckPassword and Complete act.
func (lr *LoginRequest) Posted() bool { return lr.posted }

// Continuation returns an opaque value that resumes this sign-in in a
// later request of the same browser (Server.ResumeLogin): for a sign-in
// that leaves the site and comes back, such as a redirect to an upstream
// identity provider and its answer. Carry it in the upstream request's
// state. It is bound to this browser (an HMAC under its CSRF cookie), so
// another browser cannot resume it.
func (lr *LoginRequest) Continuation() string { return lr.csrf + "." + lr.ID() }

// CheckPassword checks username and password with the server's user
// source (Config.UserSource, or the built-in users) under the server's
// login budgets, as its own page does: every guess counts against the
// address and the username, concurrent ones included. It returns the
// subject, or user.ErrInvalidCredentials (the same for an unknown user),
// a *TooManyAttemptsError (ErrTooManyAttempts), user.ErrUnavailable
// (answer 503 and ask to retry), or ErrNotPosted.
func (lr *LoginRequest) CheckPassword(r *http.Request, username, password string) (string, error) {
	if !lr.posted {
		return "", ErrNotPosted
	}
	if username == "" || password == "" {
		return "", user.ErrInvalidCredentials
	}
	subject, wait, busy := lr.s.checkPassword(r.Context(), r, username, password)
	switch {
	case busy:
		return "", user.ErrUnavailable
	case wait > 0:
		return "", &TooManyAttemptsError{RetryAfter: wait}
	case subject == "":
		lr.s.log.Info("sign-in failed", "username", oauth.Clip(username), "client_id", lr.ClientID, "address", lr.s.logAddr(r))
		return "", user.ErrInvalidCredentials
	}
	return subject, nil
}

// Complete ends the sign-in: subject (checked with the user source's
// Active) signed in. The server starts a new login session, sets its
// cookie and redirects the browser to the client with an authorization
// code, exactly as after its own login page. It writes the whole
// response: write nothing before or after. On a request that is not
// Posted, or for a subject who is not active, it answers with an error
// page and issues nothing.
func (lr *LoginRequest) Complete(w http.ResponseWriter, r *http.Request, subject string) {
	lr.complete(w, r, subject, Authentication{}.normalized())
}

// complete is Complete and CompleteWith: auth is normalized.
func (lr *LoginRequest) complete(w http.ResponseWriter, r *http.Request, subject string, auth Authentication) {
	s := lr.s
	switch {
	case lr.ended:
		s.log.Error("login UI: the sign-in was already completed or cancelled; ignoring a second end")
		return
	case !lr.posted:
		s.log.Error("login UI: Complete on a request that is not a verified POST of the login form; refused", "client_id", lr.ClientID)
		s.oidc.pages.errorPage(w, http.StatusForbidden, "Invalid request", msgFormExpired)
		return
	case subject == "":
		s.log.Error("login UI: Complete with an empty subject; refused", "client_id", lr.ClientID)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	lr.ended = true
	active, err := s.oidc.source.Active(r.Context(), subject)
	if err != nil {
		s.log.Error("login UI: the user source failed", "error", err)
		w.Header().Set("Retry-After", "1")
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	if !active {
		s.log.Warn("login UI: Complete for a subject the user source says is not active; refused", "sub", oauth.Clip(subject), "client_id", lr.ClientID)
		s.oidc.pages.errorPage(w, http.StatusForbidden, "Cannot sign in", "This account cannot sign in.")
		return
	}
	s.afterFirstFactor(w, r, lr.req, subject, subject, auth)
}

// Cancel ends the sign-in without a user: the browser goes back to the
// client with access_denied (RFC 6749 4.1.2.1). It writes the whole
// response.
func (lr *LoginRequest) Cancel(w http.ResponseWriter, r *http.Request) {
	if lr.ended {
		lr.s.log.Error("login UI: the sign-in was already completed or cancelled; ignoring a second end")
		return
	}
	lr.ended = true
	lr.s.cancelSignIn(w, r, lr.req)
}

// ResumeLogin returns the sign-in that continuation (a
// LoginRequest.Continuation) names, when r comes from the browser it was
// made for, ready to end with Complete or Cancel: on the application's
// own route, outside the login path (an upstream provider's redirect
// back). The authorization request is checked again, as the clients may
// have been reloaded since. Any failure is ErrInvalidContinuation.
func (s *Server) ResumeLogin(r *http.Request, continuation string) (*LoginRequest, error) {
	if s.oidc == nil {
		return nil, fmt.Errorf("%w: the login flows are off (Config.Grants is nil)", ErrInvalidContinuation)
	}
	token, id, ok := strings.Cut(continuation, ".")
	if !ok {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidContinuation)
	}
	a, ok := parseAuthorizeRequest(id)
	if !ok {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidContinuation)
	}
	req, e := s.checkPending(r, a)
	if e != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidContinuation, e.desc)
	}
	if !csrfValid(r, token, "login", req.encode()) {
		return nil, fmt.Errorf("%w: it was made for another browser, or its cookie expired", ErrInvalidContinuation)
	}
	return s.loginRequest(req, token, true), nil
}

// loginRequest is the LoginRequest of req with the CSRF token csrf.
func (s *Server) loginRequest(req *authzRequest, csrf string, posted bool) *LoginRequest {
	return &LoginRequest{ClientID: req.clientID, Scopes: slices.Clone(req.scopes),
		LoginHint: req.loginHint, Prompt: req.prompt, s: s, req: req, csrf: csrf, posted: posted}
}

// serveLoginUI hands req to the application's login page; posted: r is a
// POST whose CSRF token was verified.
func (s *Server) serveLoginUI(w http.ResponseWriter, r *http.Request, req *authzRequest, posted bool) {
	key, err := s.csrfKey(w, r)
	if err != nil {
		s.log.Error("login page: randomness failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot show the sign-in form right now. Please try again in a moment.")
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	s.oidc.loginUI.ServeLogin(w, r, s.loginRequest(req, csrfToken(key, "login", req.encode()), posted))
}

// postLoginUI checks a POST to the login path when the application has
// its own page: the pending request and the CSRF token, read from the
// body, which is then handed to the page unread (r.Body reads it again).
func (s *Server) postLoginUI(w http.ResponseWriter, r *http.Request) {
	body, p, req, ok := s.readSignInForm(w, r, "request", "csrf")
	if !ok {
		return
	}
	if !csrfValid(r, p.v["csrf"], "login", req.encode()) {
		s.oidc.pages.errorPage(w, http.StatusForbidden, "Invalid request", msgFormExpired)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Form, r.PostForm = nil, nil
	s.serveLoginUI(w, r, req, true)
}
