package server

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// ConnectorLocal names, in Client.AllowedConnectors, the username and
// password form of the user source (Signet's own users).
const ConnectorLocal = "local"

// connectorCookie carries one upstream round trip (a redirect connector)
// from its start to the callback: the connector, the state, and the
// pending authorization request, under an HMAC with the browser's CSRF
// key. The nonce and the PKCE verifier are HMACs of the state under the
// same key: only this browser, coming back with this state, can finish.
const connectorCookie = "signet_connector"

// connectorCookieMaxAge is how long a sign-in may stay upstream.
const connectorCookieMaxAge = 15 * 60

// maxConnectorCookie bounds the cookie (browsers keep 4096 bytes): an
// authorization request too long to fit should be pushed (PAR).
const maxConnectorCookie = 3800

// Messages of the connector pages.
const (
	msgConnectorUnknown  = "This sign-in option is not available for this application."
	msgConnectorExpired  = "This sign-in cannot be finished: it was started in another browser or window, or it took too long. Go back to the application and sign in again."
	msgConnectorRefused  = "%s did not sign you in. Try again, or choose another way to sign in."
	msgConnectorDenied   = "The sign-in at %s was cancelled or refused."
	msgConnectorDown     = "%s cannot be reached right now. Please try again in a moment."
	msgLocalNotAllowed   = "This application does not accept a Signet username and password. Choose one of the sign-in options."
	msgConnectorTooLarge = "This sign-in request is too large to continue through another provider. Tell the application's developers to push their authorization requests (PAR)."
)

// connectorButton is a connector's button on the login page.
type connectorButton struct{ ID, Name string }

// connectorAllowed reports whether lc lets people sign in through id
// (ConnectorLocal: the password form).
func connectorAllowed(lc *loginClient, id string) bool {
	return lc == nil || len(lc.allowedConnectors) == 0 || slices.Contains(lc.allowedConnectors, id)
}

// loginChoices are the buttons of the login page of req's client, and
// whether it shows the password form: when the client allows it, and,
// with connectors configured, only when the local source has users
// (without connectors, always, as before them).
func (s *Server) loginChoices(ctx context.Context, req *authzRequest) (buttons []connectorButton, form bool) {
	lc := s.reg.Load().login[req.clientID]
	for _, c := range s.oidc.connectors.All() {
		if connectorAllowed(lc, c.ID()) {
			buttons = append(buttons, connectorButton{ID: c.ID(), Name: c.Name()})
		}
	}
	if !connectorAllowed(lc, ConnectorLocal) {
		return buttons, false
	}
	return buttons, s.oidc.connectors == nil || s.hasLocalUsers(ctx)
}

// hasLocalUsers reports whether the local user source may have users:
// the built-in users when there are any; a custom source that says so
// (a HasUsers method), or that does not say.
func (s *Server) hasLocalUsers(ctx context.Context) bool {
	if !s.oidc.custom {
		return len(s.oidc.users.Load().bySubject) > 0
	}
	if h, ok := s.oidc.localSource.(interface {
		HasUsers(context.Context) (bool, error)
	}); ok {
		has, err := h.HasUsers(ctx)
		return err != nil || has // when in doubt, show the form
	}
	return true
}

// connectorLogin handles a POST of the login page naming a connector
// (its button, or a password connector's form).
func (s *Server) connectorLogin(w http.ResponseWriter, r *http.Request, req *authzRequest, id string, p params) {
	c := s.oidc.connectors.Get(id)
	if c == nil || !connectorAllowed(s.reg.Load().login[req.clientID], id) {
		s.log.Info("sign-in through a connector the client does not allow, or unknown; refused", "connector", oauth.Clip(id), "client_id", req.clientID)
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Cannot sign in", msgConnectorUnknown)
		return
	}
	switch c := c.(type) {
	case connector.Redirect:
		s.beginUpstream(w, r, req, c)
	case connector.Password:
		s.connectorPassword(w, r, req, c, p)
	default:
		s.log.Error("connector is neither a redirect nor a password connector", "connector", id)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot sign you in right now. Please try again in a moment.")
	}
}

// connectorPassword shows a password connector's form (its button was
// pressed) or checks it (the form was sent: "connector_form"), under the
// login budgets of local passwords; the username's budget is the
// connector's own ("<id>:<username>").
func (s *Server) connectorPassword(w http.ResponseWriter, r *http.Request, req *authzRequest, c connector.Password, p params) {
	username, password := p.v["username"], p.v["password"]
	if p.v["connector_form"] == "" {
		s.renderLoginView(w, r, req, http.StatusOK, "", req.loginHint, c)
		return
	}
	if username == "" || password == "" {
		s.renderLoginView(w, r, req, http.StatusBadRequest, msgMissing, username, c)
		return
	}
	budget := username
	if cu, ok := c.(interface{ CanonicalUsername(string) string }); ok {
		// The directory matches "Alice" and " alice" as alice: so do
		// the username's budgets (connector/ldap).
		budget = cu.CanonicalUsername(username)
	}
	subject, wait, busy := s.checkPasswordWith(r.Context(), r, c, connector.Subject(c.ID(), budget), username, password)
	switch {
	case busy:
		w.Header().Set("Retry-After", "1")
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", fmt.Sprintf(msgConnectorDown, c.Name()))
		return
	case wait > 0:
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfter(wait), 10))
		s.renderLoginView(w, r, req, http.StatusTooManyRequests, fmt.Sprintf(msgTooMany, roundMinutes(wait)), username, c)
		return
	case subject == "":
		s.log.Info("sign-in failed", "connector", c.ID(), "username", oauth.Clip(username), "client_id", req.clientID, "address", s.logAddr(r))
		s.renderLoginView(w, r, req, http.StatusOK, msgBadCredentials, username, c)
		return
	}
	if owner := s.oidc.connectors.Owner(subject); owner == nil || owner.ID() != c.ID() {
		s.log.Error("a password connector returned a subject outside its namespace; refused", "connector", c.ID(), "sub", oauth.Clip(subject))
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	// A directory's password: amr pwd (RFC 8176).
	s.signIn(w, r, req, subject, Authentication{AMR: []string{AMRPassword}}.normalized())
}

// upstreamTrip is the connector cookie's payload.
type upstreamTrip struct {
	Connector string `json:"c"`
	State     string `json:"s"`
	Request   string `json:"r"` // the pending authorization request (authzParams.encode)
}

// connectorRedirectURI is the callback of connector id at this server.
func (s *Server) connectorRedirectURI(id string) string {
	return s.issuer + PathLogin + "/" + id + "/callback"
}

// upstreamBegin is the connector.Begin of a round trip, its nonce and
// verifier derived from the browser's key and the state.
func (s *Server) upstreamBegin(key string, t upstreamTrip, req *authzRequest) connector.Begin {
	b := connector.Begin{RedirectURI: s.connectorRedirectURI(t.Connector), State: t.State,
		Nonce: csrfToken(key, "connector-nonce", t.State), CodeVerifier: csrfToken(key, "connector-pkce", t.State),
		LoginHint: req.loginHint}
	// prompt=login asks the provider for a new sign-in too;
	// select_account lets the person choose an account there. consent
	// and none are Signet's to answer.
	var up []string
	for _, v := range strings.Fields(req.prompt) {
		if v == "login" || v == "select_account" {
			up = append(up, v)
		}
	}
	b.Prompt = strings.Join(up, " ")
	return b
}

// beginUpstream sends the browser to a redirect connector's provider.
func (s *Server) beginUpstream(w http.ResponseWriter, r *http.Request, req *authzRequest, c connector.Redirect) {
	key, err := s.csrfKey(w, r)
	if err != nil {
		s.log.Error("login page: randomness failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	state, err := s.randomHandle(32)
	if err != nil {
		s.log.Error("login page: randomness failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	t := upstreamTrip{Connector: c.ID(), State: state, Request: req.encode()}
	b, _ := json.Marshal(t) // cannot fail: strings
	payload := base64.RawURLEncoding.EncodeToString(b)
	value := payload + "." + csrfToken(key, "connector", payload)
	if len(value) > maxConnectorCookie {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Cannot sign in", msgConnectorTooLarge)
		return
	}
	to, err := c.AuthCodeURL(r.Context(), s.upstreamBegin(key, t, req))
	if err != nil {
		s.log.Error("a connector's provider cannot be reached", "connector", c.ID(), "error", err)
		w.Header().Set("Retry-After", "10")
		s.connectorErrorPage(w, http.StatusServiceUnavailable, "Try again shortly", fmt.Sprintf(msgConnectorDown, c.Name()), req)
		return
	}
	http.SetCookie(w, s.cookie(connectorCookie, value, connectorCookieMaxAge))
	s.log.Info("sign-in sent upstream", "connector", c.ID(), "client_id", req.clientID)
	s.redirect(w, r, to)
}

// readTrip reads and checks the browser's connector cookie.
func (s *Server) readTrip(r *http.Request) (key string, t upstreamTrip, ok bool) {
	kc, err := r.Cookie(csrfCookie)
	if err != nil || !validHandle(kc.Value) {
		return "", t, false
	}
	c, err := r.Cookie(connectorCookie)
	if err != nil {
		return "", t, false
	}
	payload, mac, found := strings.Cut(c.Value, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(csrfToken(kc.Value, "connector", payload))) {
		return "", t, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &t) != nil || t.State == "" {
		return "", t, false
	}
	return kc.Value, t, true
}

// serveConnectorCallback finishes a sign-in at a redirect connector's
// provider: the browser comes back to PathLogin/{connector}/callback.
func (s *Server) serveConnectorCallback(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("connector")
	c, ok := s.oidc.connectors.Get(id).(connector.Redirect)
	if !ok {
		s.oidc.pages.errorPage(w, http.StatusNotFound, "Cannot sign in", msgConnectorUnknown)
		return
	}
	key, t, ok := s.readTrip(r)
	if !ok || t.Connector != id {
		s.log.Warn("connector callback without this browser's sign-in (no, a bad or another connector's cookie)", "connector", id, "address", s.logAddr(r))
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Cannot sign in", msgConnectorExpired)
		return
	}
	// One callback per round trip: the cookie goes, whatever happens.
	http.SetCookie(w, s.cookie(connectorCookie, "", -1))
	a, ok := parseAuthorizeRequest(t.Request)
	if !ok {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Cannot sign in", msgConnectorExpired)
		return
	}
	req, e := s.checkPending(r, a)
	if e != nil {
		s.authorizeError(w, r, &a, e)
		return
	}
	if !connectorAllowed(s.reg.Load().login[req.clientID], id) {
		s.log.Info("connector callback for a client that does not allow the connector (any more); refused", "connector", id, "client_id", req.clientID)
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Cannot sign in", msgConnectorUnknown)
		return
	}
	// Each callback may cost a request to the provider: failed ones draw
	// on the address's login budget, as failed passwords do.
	res, wait, err := s.attempts.Reserve(r.Context(), s.loginAddrKey(s.addrKey(r)))
	if err != nil {
		s.log.Error("connector callback: counting the attempt failed", "error", err)
		w.Header().Set("Retry-After", "1")
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you in right now. Please try again in a moment.")
		return
	}
	if res == nil {
		s.metrics.throttled("login")
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfter(wait), 10))
		s.oidc.pages.errorPage(w, http.StatusTooManyRequests, "Cannot sign in", fmt.Sprintf(msgTooMany, roundMinutes(wait)))
		return
	}
	subject, err := c.Exchange(r.Context(), r.URL.Query(), s.upstreamBegin(key, t, req))
	switch {
	case err == nil:
		if err := res.Succeeded(r.Context()); err != nil {
			s.log.Warn("connector callback: returning the attempt failed", "error", err)
		}
	case errors.Is(err, connector.ErrUpstream) && r.URL.Query().Get("error") == "":
		res.Failed() // a forged or stale answer
	default:
		res.Cancel(r.Context()) // the person declined, or the provider is down
	}
	if err == nil {
		if owner := s.oidc.connectors.Owner(subject); owner == nil || owner.ID() != id {
			err = fmt.Errorf("the connector returned a subject outside its namespace: %q", oauth.Clip(subject))
		}
	}
	if err != nil {
		s.upstreamFailed(w, r, req, c, err)
		return
	}
	s.log.Info("signed in upstream", "connector", id, "sub", subject, "client_id", req.clientID)
	// An upstream provider signed the user in: amr fed (RFC 8176).
	s.signIn(w, r, req, subject, Authentication{AMR: []string{AMRFederated}}.normalized())
}

// upstreamFailed answers a failed upstream sign-in with a page that says
// what happened and leads back to the login page; the cause is logged.
func (s *Server) upstreamFailed(w http.ResponseWriter, r *http.Request, req *authzRequest, c connector.Redirect, err error) {
	switch {
	case errors.Is(err, connector.ErrUnreachable), errors.Is(err, user.ErrUnavailable):
		s.log.Error("upstream sign-in failed: the provider or the store cannot be reached", "connector", c.ID(), "client_id", req.clientID, "error", err)
		w.Header().Set("Retry-After", "10")
		s.connectorErrorPage(w, http.StatusServiceUnavailable, "Try again shortly", fmt.Sprintf(msgConnectorDown, c.Name()), req)
	case errors.Is(err, connector.ErrUpstream) && r.URL.Query().Get("error") == "access_denied":
		s.log.Info("upstream sign-in refused by the provider", "connector", c.ID(), "client_id", req.clientID, "error", err)
		s.connectorErrorPage(w, http.StatusForbidden, "Sign-in cancelled", fmt.Sprintf(msgConnectorDenied, c.Name()), req)
	default:
		s.log.Warn("upstream sign-in failed", "connector", c.ID(), "client_id", req.clientID, "address", s.logAddr(r), "error", err)
		s.connectorErrorPage(w, http.StatusBadRequest, "Cannot sign in", fmt.Sprintf(msgConnectorRefused, c.Name()), req)
	}
}

// connectorErrorView is the data of the connector error page.
type connectorErrorView struct {
	Message string
	Retry   string // the login page of the pending request
}

func (s *Server) connectorErrorPage(w http.ResponseWriter, status int, title, msg string, req *authzRequest) {
	s.oidc.pages.render(w, status, "connectorerror.html", title, connectorErrorView{Message: msg, Retry: s.prefix + PathLogin + "?" + req.encode()})
}
