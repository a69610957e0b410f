package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/signet-id/signet/consent"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// PathConsent is the consent page: the signed-in user approves or denies
// what a client with RequireConsent asks for. PathAccount is the user's
// account page: the consents they remembered, each revocable.
const (
	PathConsent = "/account/consent"
	PathAccount = "/account"
)

// onceConsentForm is the namespace of used consent forms (grant.OnceID):
// a decision is taken once.
const onceConsentForm = "consent_form"

// Default descriptions of the identity scopes on the consent page
// (Config.UI.ScopeDescriptions overrides them, and describes API scopes).
var defaultScopeDescriptions = map[string]string{
	"openid":         "Know who you are: your account's identifier",
	"profile":        "See your profile: your name, username, picture, locale and time zone",
	"email":          "See your email address and whether it is verified",
	"address":        "See your postal address",
	"phone":          "See your phone number and whether it is verified",
	"groups":         "See the groups you belong to",
	"offline_access": "Keep access while you are away (until you revoke it or sign out of the application)",
}

// DefaultScopeDescription returns the consent page's plain-words
// description of scope, when Config.UI.ScopeDescriptions has none:
// the identity scopes have their own; a scope of an API resource is
// "Use <API>: <scope>".
func DefaultScopeDescription(scope, apiResource string) string {
	if d, ok := defaultScopeDescriptions[scope]; ok {
		return d
	}
	if apiResource != "" {
		return "Use " + apiResource + " on your behalf: " + scope
	}
	return "Use “" + scope + "” on your behalf"
}

// scopeView is one scope as the consent and account pages show it.
type scopeView struct {
	Scope       string
	Description string
}

// describeScopes puts scopes in plain words.
func (s *Server) describeScopes(reg *registry, scopes []string) []scopeView {
	out := make([]scopeView, 0, len(scopes))
	for _, sc := range scopes {
		d, ok := s.oidc.ui.scopeDescriptions[sc]
		if !ok {
			api := ""
			for _, r := range reg.ordered {
				if slices.Contains(r.scopes, sc) {
					api = r.name
					break
				}
			}
			d = DefaultScopeDescription(sc, api)
		}
		out = append(out, scopeView{Scope: sc, Description: d})
	}
	return out
}

// consentView is the consent page's data.
type consentView struct {
	Client   clientView
	Username string
	Scopes   []scopeView
	// CanRemember: the client allows remembering the decision.
	CanRemember bool
	Action      string
	Request     string // the pending authorization request
	Form        string // this form's one-time identifier
	CSRF        string
	Error       string
}

// consentBinding is what a consent form's CSRF token binds besides the
// browser (its CSRF key): the login session, the form's one-time
// identifier and the pending request.
func consentBinding(sid, form, request string) string {
	return sid + "\x00" + form + "\x00" + request
}

// needsConsent reports whether sess's user must approve req on the
// consent page: the client requires consent and either prompt=consent
// asks for the page or no remembered consent covers the scopes.
func (s *Server) needsConsent(ctx context.Context, req *authzRequest, sess *session) (bool, error) {
	if !req.login.requireConsent {
		return false, nil
	}
	if req.promptConsent || !req.login.allowRemember || s.oidc.consents == nil {
		return true, nil
	}
	rec, err := s.oidc.consents.Consent(ctx, sess.subject, req.clientID)
	if errors.Is(err, consent.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !rec.Covers(req.scopes), nil
}

// continueSignedIn issues a code for req to the signed-in sess, after the
// consent page when the client needs it. A session just started
// (sess.pending) is stored first when the page is shown.
func (s *Server) continueSignedIn(w http.ResponseWriter, r *http.Request, req *authzRequest, sess *session) {
	need, err := s.needsConsent(r.Context(), req, sess)
	if err != nil {
		s.log.Error("authorize: reading remembered consent failed", "client_id", req.clientID, "error", err)
		s.authorizeError(w, r, &req.authzParams, redirectError("temporarily_unavailable", "the server cannot read consents right now; retry shortly"))
		return
	}
	if !need {
		s.issueCode(w, r, req, sess)
		return
	}
	if req.promptNone { // OpenID Connect Core 3.1.2.6
		s.authorizeError(w, r, &req.authzParams, redirectError("consent_required", "the user must approve this client's request on the consent page"))
		return
	}
	if sess.pending != nil && !s.storeSession(w, r, sess) {
		return
	}
	if !s.keepPending(w, r, req) {
		return
	}
	s.renderConsent(w, r, req, sess, http.StatusOK, "")
}

// storeSession stores a session just started without a code (the consent
// page comes first), ending the browser's previous one, and sets its
// cookie. It returns false when it has answered with an error.
func (s *Server) storeSession(w http.ResponseWriter, r *http.Request, sess *session) bool {
	ctx := r.Context()
	if err := s.oidc.grants.CreateGrant(ctx, *sess.pending); err != nil {
		s.log.Error("storing the login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you in right now. Please try again in a moment.")
		return false
	}
	if sess.end.ID != "" {
		if err := s.oidc.grants.RevokeGrant(ctx, sess.end.ID, s.now()); err != nil && !errors.Is(err, grantstore.ErrNotFound) {
			s.log.Error("ending the previous login session failed", "error", err)
		}
		s.deleteSessionCodes(ctx, sess.end.SessionID)
	}
	s.sessionStarted(ctx, sess)
	http.SetCookie(w, s.cookie(sessionCookie, sess.handle, s.sessionCookieAge()))
	sess.pending = nil
	return true
}

// renderConsent shows the consent page for req to sess's user.
func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, req *authzRequest, sess *session, status int, msg string) {
	key, err := s.csrfKey(w, r)
	var form string
	if err == nil {
		form, err = s.randomHandle(16)
	}
	if err != nil {
		s.log.Error("consent page: randomness failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot show this page right now. Please try again in a moment.")
		return
	}
	canonical := req.encode()
	reg := s.reg.Load()
	v := consentView{
		Client:      s.clientView(req.login),
		Username:    s.displayName(r.Context(), sess.subject),
		Scopes:      s.describeScopes(reg, req.scopes),
		CanRemember: req.login.allowRemember && s.oidc.consents != nil,
		Action:      s.prefix + PathConsent,
		Request:     canonical,
		Form:        form,
		CSRF:        csrfToken(key, "consent", consentBinding(sess.sid, form, canonical)),
		Error:       msg,
	}
	s.oidc.pages.renderFor(w, status, "consent.html", "Allow access?", v, req.login.logoURI)
}

// serveConsent takes the consent page's decision (POST only): approve
// issues the code (and remembers the scopes when asked and allowed),
// deny sends access_denied to the client. The form must come from a
// consent page this server showed this browser for this login session
// and this pending request, and is taken once.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.oidc.pages.errorPage(w, http.StatusMethodNotAllowed, "Invalid request", "This address accepts POST only.")
		return
	}
	_, p, req, ok := s.readSignInForm(w, r, "request", "csrf", "form", "decision", "remember")
	if !ok {
		return
	}
	sess, err := s.currentSession(r)
	if err != nil {
		s.log.Error("consent: reading the login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot take your answer right now. Please try again in a moment.")
		return
	}
	form, canonical := p.v["form"], req.encode()
	if sess == nil || !validFormID(form) || !csrfValid(r, p.v["csrf"], "consent", consentBinding(sess.sid, form, canonical)) {
		s.log.Info("consent: a form that does not match this browser's session was refused", "client_id", req.clientID, "address", s.logAddr(r))
		s.oidc.pages.errorPage(w, http.StatusForbidden, "Invalid request", "This form expired or did not come from this site. Go back to the application and try again.")
		return
	}
	decision := p.v["decision"]
	if decision != "approve" && decision != "deny" {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "Choose Allow or Deny.")
		return
	}
	now := s.now()
	switch err := grantstore.UseOnce(r.Context(), s.oidc.grants, grantstore.OnceID(onceConsentForm, sess.sid, form), now, now.Add(PendingSignInLifetime)); {
	case errors.Is(err, grantstore.ErrReplayed):
		s.log.Info("consent: a form sent again was refused", "client_id", req.clientID, "sub", sess.subject)
		s.oidc.pages.errorPage(w, http.StatusConflict, "Already answered", "You already answered this request. Go back to the application and try again.")
		return
	case err != nil:
		s.log.Error("consent: recording the answer failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot take your answer right now. Please try again in a moment.")
		return
	}
	if decision == "deny" {
		s.log.Info("consent denied", "sub", sess.subject, "client_id", req.clientID)
		if s.usePending(w, r, req) {
			s.authorizeError(w, r, &req.authzParams, redirectError("access_denied", "the user denied the request"))
		}
		return
	}
	if p.v["remember"] != "" && req.login.allowRemember && s.oidc.consents != nil {
		s.rememberConsent(r.Context(), sess.subject, req)
	}
	s.log.Info("consent given", "sub", sess.subject, "client_id", req.clientID, "scopes", req.scopes)
	s.issueCode(w, r, req, sess)
}

// rememberConsent adds req's scopes to what subject let the client have.
// A failure is logged: the page is shown again next time.
func (s *Server) rememberConsent(ctx context.Context, subject string, req *authzRequest) {
	scopes := req.scopes
	if old, err := s.oidc.consents.Consent(ctx, subject, req.clientID); err == nil {
		scopes = append(slices.Clone(old.Scopes), scopes...)
	}
	rec := consent.Record{Subject: subject, ClientID: req.clientID, Scopes: consent.Normalize(scopes), Granted: s.now()}
	if err := s.oidc.consents.SaveConsent(ctx, rec); err != nil {
		s.log.Error("consent: remembering it failed; the consent page will ask again", "sub", subject, "client_id", req.clientID, "error", err)
	}
}

// accountView is the account page's data.
type accountView struct {
	Username string
	SignedIn bool
	Consents []accountConsent
	Action   string
	Message  string
}

// accountConsent is one remembered consent on the account page.
type accountConsent struct {
	Client  clientView
	Scopes  []scopeView
	Granted string // YYYY-MM-DD
	CSRF    string // the token of its revoke form
}

// serveAccount is the account page: GET lists the signed-in user's
// remembered consents; POST revokes one (client_id) with a CSRF token
// bound to the session and the client.
func (s *Server) serveAccount(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.oidc.pages.errorPage(w, http.StatusMethodNotAllowed, "Invalid request", "This address accepts GET and POST only.")
		return
	}
	sess, err := s.currentSession(r)
	if err != nil {
		s.log.Error("account: reading the login session failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot show your account right now. Please try again in a moment.")
		return
	}
	if sess == nil {
		s.oidc.pages.render(w, http.StatusOK, "account.html", "Your account", accountView{})
		return
	}
	key, err := s.csrfKey(w, r)
	if err != nil {
		s.log.Error("account: randomness failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusInternalServerError, "Something went wrong", "Signet cannot show your account right now. Please try again in a moment.")
		return
	}
	status, msg := http.StatusOK, ""
	if r.Method == http.MethodPost {
		status, msg = s.revokeFromAccount(w, r, sess)
		if status == 0 {
			return
		}
	}
	v := accountView{Username: s.displayName(r.Context(), sess.subject), SignedIn: true, Action: s.prefix + PathAccount, Message: msg}
	if s.oidc.consents != nil {
		recs, err := s.oidc.consents.Consents(r.Context(), sess.subject)
		if err != nil {
			s.log.Error("account: reading consents failed", "error", err)
			s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot show your account right now. Please try again in a moment.")
			return
		}
		reg := s.reg.Load()
		for _, rec := range recs {
			cv := clientView{ID: rec.ClientID, Name: rec.ClientID}
			if lc := reg.login[rec.ClientID]; lc != nil {
				cv = s.clientView(lc)
				cv.LogoURI = "" // one page, many clients: no logos under one CSP
			}
			v.Consents = append(v.Consents, accountConsent{Client: cv, Scopes: s.describeScopes(reg, rec.Scopes),
				Granted: rec.Granted.UTC().Format("2006-01-02"), CSRF: csrfToken(key, "account", sess.sid+"\x00"+rec.ClientID)})
		}
	}
	s.oidc.pages.render(w, status, "account.html", "Your account", v)
}

// revokeFromAccount takes the account page's revoke form. It returns the
// status and message of the page to show, or status 0 when it answered.
func (s *Server) revokeFromAccount(w http.ResponseWriter, r *http.Request, sess *session) (int, string) {
	body, status, reason := s.readForm(r)
	if status != 0 {
		s.oidc.pages.errorPage(w, status, "Invalid request", reason)
		return 0, ""
	}
	p, ok := parseParams(body)
	if !ok || p.dup("client_id", "csrf") != "" {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The form was not sent correctly.")
		return 0, ""
	}
	clientID := p.v["client_id"]
	if clientID == "" || !csrfValid(r, p.v["csrf"], "account", sess.sid+"\x00"+clientID) {
		return http.StatusForbidden, "This form expired or did not come from this site. Please try again."
	}
	if s.oidc.consents == nil {
		return http.StatusOK, ""
	}
	if _, err := s.oidc.consents.RevokeConsent(r.Context(), sess.subject, clientID); err != nil {
		s.log.Error("account: revoking a consent failed", "error", err)
		s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot change your account right now. Please try again in a moment.")
		return 0, ""
	}
	s.log.Info("consent revoked by the user", "sub", sess.subject, "client_id", oauth.Clip(clientID))
	return http.StatusOK, "Access for " + strings.TrimSpace(s.clientName(clientID)) + " was revoked. It will ask you again next time."
}

// validFormID reports whether v has the shape of a 16-byte base64url
// identifier (randomHandle(16)).
func validFormID(v string) bool { return oauth.ValidBase64URL(v, 22) }
