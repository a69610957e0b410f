package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/mfa"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/throttle"
)

// PathLoginMFA is where the second-factor pages post (enrolment, a code,
// a recovery code), relative to the issuer.
const PathLoginMFA = "/account/login/mfa"

// MFA configures the second factor (Config.MFA). A user with a confirmed
// TOTP secret is always asked for a code after the first factor (a
// password, or a login UI's Complete); a user without one enrols at
// sign-in when a policy requires it: Required, RequiredSubjects, the
// client's Client.RequireMFA, or a request for ACRMultiFactor (acr_values
// or the claims parameter). A session signed in with one factor steps up
// (a code, without the password again) when a request needs two.
type MFA struct {
	// Manager enrols and checks second factors (package mfa). Nil: no
	// second factor; then no client may require one.
	Manager *mfa.Manager
	// Required makes every user sign in with a second factor.
	Required bool
	// RequiredSubjects are users (subjects) who must.
	RequiredSubjects []string
}

// mfaPolicy is Config.MFA, compiled; nil without a Manager.
type mfaPolicy struct {
	m        *mfa.Manager
	required bool
	subjects map[string]bool
}

func newMFAPolicy(c MFA) *mfaPolicy {
	if c.Manager == nil {
		return nil
	}
	p := &mfaPolicy{m: c.Manager, required: c.Required, subjects: make(map[string]bool, len(c.RequiredSubjects))}
	for _, sub := range c.RequiredSubjects {
		p.subjects[sub] = true
	}
	return p
}

// checkMFAClients refuses clients that require a second factor when the
// server has none.
func (s *Server) checkMFAClients(clients []Client) error {
	if s.mfa != nil {
		return nil
	}
	for _, c := range clients {
		if c.RequireMFA {
			return fmt.Errorf("server: client %q requires a second factor (requireMfa) but the server has none (Config.MFA.Manager is nil; with signet serve: keyManagement.protection must be enabled with secrets, and the store must be sqlite, postgres or memory)", c.ID)
		}
	}
	return nil
}

// Messages of the second-factor pages.
const (
	msgWrongOTP    = "That code is not right. Enter the code your authenticator app shows now."
	msgBadRecovery = "That recovery code is not right, or was already used."
	msgMFAExpired  = "This sign-in took too long. Please sign in again."
	msgTooManyCode = "Too many wrong codes. Try again in %s."
)

// mfaStateLifetime is how long the second-factor page may wait after the
// first factor.
const mfaStateLifetime = 5 * time.Minute

// mfaPending is the sealed state of a sign-in between the first factor
// and the second: the hidden field "state" of the second-factor pages.
// Only this server can make one (mfa.Manager.SealState); its form's CSRF
// token binds it to this browser and to the pending request.
type mfaPending struct {
	Sub     string   `json:"sub"`
	Account string   `json:"acct,omitempty"` // the name the authenticator app shows
	AMR     []string `json:"amr"`            // the first factor's methods
	Exp     int64    `json:"exp"`
	// Confirmed: the enrolment was confirmed with a code and the
	// recovery codes shown; "continue" signs in.
	Confirmed bool `json:"confirmed,omitempty"`
	// WA is the pending WebAuthn ceremony (passkey.go): go-webauthn's
	// SessionData, JSON.
	WA []byte `json:"wa,omitempty"`
}

// mfaView is the data of the second-factor pages (mfa.html, enrol.html,
// recovery.html).
type mfaView struct {
	ClientID string
	Action   string
	Request  string
	CSRF     string
	State    string
	Error    string
	// Enrolment: the QR code (an inline SVG from package mfa) and the key.
	QRCode template.HTML
	Key    string
	// Codes are the recovery codes, shown once.
	Codes []string
	// Passkey is the WebAuthn options of the page's passkey form (JSON,
	// "" for none); Script the script that runs it (passkey.go).
	Passkey string
	Script  template.JS
}

// wantsMFA reports whether req asks for two factors: the client requires
// them, or the request asks for ACRMultiFactor.
func (req *authzRequest) wantsMFA() bool {
	return req.login.requireMFA || req.acrWanted == ACRMultiFactor
}

// needSecondFactor reports whether subject, signed in with auth, must
// give a second factor before req gets a code, and whether they have one
// enrolled (false: they enrol now).
func (s *Server) needSecondFactor(ctx context.Context, req *authzRequest, subject string, auth Authentication) (need, enrolled bool, err error) {
	p := s.mfa
	if p == nil || auth.ACR == ACRMultiFactor {
		return false, false, nil
	}
	enrolled, err = s.mfaEnrolled(ctx, subject)
	if err != nil {
		return false, false, err
	}
	return enrolled || s.policyRequiresMFA(req, subject), enrolled, nil
}

// policyRequiresMFA reports whether a policy makes subject use a second
// factor for req: Config.MFA, the client's RequireMFA, the request's acr.
func (s *Server) policyRequiresMFA(req *authzRequest, subject string) bool {
	p := s.mfa
	return p != nil && (p.required || p.subjects[subject] || req.wantsMFA())
}

// sessionNeedsStepUp reports whether sess, otherwise good for req, lacks
// the second factor a policy requires for req. A session signed in with
// the first factor before the user enrolled elsewhere is not stepped up
// for that alone: no store read on the authorization path.
func (s *Server) sessionNeedsStepUp(req *authzRequest, sess *session) bool {
	return sess.auth.ACR != ACRMultiFactor && s.policyRequiresMFA(req, sess.subject)
}

// afterFirstFactor goes on after subject passed the first factor auth
// (normalized): a second factor when one is needed, else the sign-in.
// account is the name an authenticator app shows (the username).
func (s *Server) afterFirstFactor(w http.ResponseWriter, r *http.Request, req *authzRequest, subject, account string, auth Authentication) {
	need, enrolled, err := s.needSecondFactor(r.Context(), req, subject, auth)
	if err != nil {
		s.mfaUnavailable(w, "reading the second factor failed", err)
		return
	}
	if !need {
		s.signIn(w, r, req, subject, auth)
		return
	}
	st := mfaPending{Sub: subject, Account: account, AMR: auth.AMR, Exp: s.now().Add(mfaStateLifetime).Unix()}
	s.showSecondFactor(w, r, req, st, enrolled, http.StatusOK, "")
}

// stepUp shows the second-factor page at the login page when the browser
// has a session that is still good for req (no prompt=login, max_age
// met) but has one factor where req needs two; it reports whether it
// answered.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, req *authzRequest) bool {
	if s.mfa == nil || req.promptLogin {
		return false
	}
	sess, err := s.currentSession(r)
	if err != nil || sess == nil || s.needsLogin(req, sess) || !s.sessionNeedsStepUp(req, sess) {
		return false
	}
	enrolled, err := s.mfaEnrolled(r.Context(), sess.subject)
	if err != nil {
		return false
	}
	st := mfaPending{Sub: sess.subject, Account: sess.subject, AMR: sess.auth.AMR, Exp: s.now().Add(mfaStateLifetime).Unix()}
	s.showSecondFactor(w, r, req, st, enrolled, http.StatusOK, "")
	return true
}

// showSecondFactor renders the second-factor page of st: a code (and a
// recovery code) for an enrolled user, otherwise the enrolment (QR code,
// key, confirmation code).
func (s *Server) showSecondFactor(w http.ResponseWriter, r *http.Request, req *authzRequest, st mfaPending, enrolled bool, status int, msg string) {
	opts, err := s.beginPasskey(r.Context(), &st, enrolled)
	if err != nil {
		s.mfaUnavailable(w, "starting a passkey ceremony failed", err)
		return
	}
	v, ok := s.mfaForm(w, r, req, st)
	if !ok {
		return
	}
	v.Error, v.Passkey = msg, opts
	if opts != "" {
		v.Script = passkeyScript
	}
	if enrolled {
		s.oidc.pages.render(w, status, "mfa.html", "Two-step verification", v)
		return
	}
	en, err := s.mfa.m.Begin(r.Context(), st.Sub, st.Account)
	if errors.Is(err, mfa.ErrEnrolled) { // confirmed meanwhile (another tab)
		s.oidc.pages.render(w, status, "mfa.html", "Two-step verification", v)
		return
	}
	if err != nil {
		s.mfaUnavailable(w, "starting a second-factor enrolment failed", err)
		return
	}
	v.QRCode, v.Key = template.HTML(en.QRCode), groupKey(en.Key) // the SVG is package mfa's, made from a URL it encoded
	s.oidc.pages.render(w, status, "enrol.html", "Set up two-step verification", v)
}

// mfaForm seals st and returns the form of a second-factor page.
func (s *Server) mfaForm(w http.ResponseWriter, r *http.Request, req *authzRequest, st mfaPending) (mfaView, bool) {
	data, _ := json.Marshal(st) // cannot fail: strings, a number, a bool
	sealed, err := s.mfa.m.SealState(data)
	if err != nil {
		s.mfaUnavailable(w, "sealing the sign-in state failed", err)
		return mfaView{}, false
	}
	key, err := s.csrfKey(w, r)
	if err != nil {
		s.mfaUnavailable(w, "randomness failed", err)
		return mfaView{}, false
	}
	state := base64.RawURLEncoding.EncodeToString(sealed)
	canonical := req.encode()
	return mfaView{ClientID: req.clientID, Action: s.prefix + PathLoginMFA, Request: canonical,
		CSRF: csrfToken(key, "mfa", canonical+"\x00"+state), State: state}, true
}

// openMFAState opens a state from a second-factor form; false when it is
// not one of this server's or has expired.
func (s *Server) openMFAState(state string) (mfaPending, bool) {
	sealed, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil {
		return mfaPending{}, false
	}
	data, err := s.mfa.m.OpenState(sealed)
	if err != nil {
		return mfaPending{}, false
	}
	var st mfaPending
	if json.Unmarshal(data, &st) != nil || st.Sub == "" || s.now().Unix() >= st.Exp {
		return mfaPending{}, false
	}
	return st, true
}

// serveLoginMFA takes the second-factor forms (POST).
func (s *Server) serveLoginMFA(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || s.mfa == nil {
		w.Header().Set("Allow", "POST")
		s.oidc.pages.errorPage(w, http.StatusMethodNotAllowed, "Invalid request", "This address accepts the two-step verification form only.")
		return
	}
	_, p, req, ok := s.readSignInForm(w, r, "request", "csrf", "state", "step", "code", "credential", "cancel")
	if !ok {
		return
	}
	if !csrfValid(r, p.v["csrf"], "mfa", req.encode()+"\x00"+p.v["state"]) {
		s.oidc.pages.errorPage(w, http.StatusForbidden, "Invalid request", msgFormExpired)
		return
	}
	st, ok := s.openMFAState(p.v["state"])
	if !ok {
		s.restartSignIn(w, r, req)
		return
	}
	if p.v["cancel"] != "" {
		s.cancelSignIn(w, r, req)
		return
	}
	m, code := s.mfa.m, p.v["code"]
	ctx := r.Context()
	switch step := p.v["step"]; step {
	case "code", "recovery":
		check, bad := func() error { return m.Verify(ctx, st.Sub, code) }, msgWrongOTP
		if step == "recovery" {
			check, bad = func() error { return m.UseRecoveryCode(ctx, st.Sub, code) }, msgBadRecovery
		}
		if !s.checkCode(w, r, req, st, true, check, bad) {
			return
		}
		if step == "recovery" {
			s.log.Warn("signed in with a recovery code", "sub", st.Sub, "client_id", req.clientID)
		}
		s.signIn(w, r, req, st.Sub, secondFactorAuth(st.AMR, AMROTP))
	case "enrol":
		var codes []string
		if !s.checkCode(w, r, req, st, false, func() (err error) { codes, err = m.Confirm(ctx, st.Sub, code); return err }, msgWrongOTP) {
			return
		}
		s.log.Info("second factor enrolled", "sub", st.Sub, "client_id", req.clientID)
		st.Confirmed = true
		v, ok := s.mfaForm(w, r, req, st)
		if !ok {
			return
		}
		v.Codes = codes
		s.oidc.pages.render(w, http.StatusOK, "recovery.html", "Save your recovery codes", v)
	case "passkey", "passkey-register":
		s.passkeyStep(w, r, req, st, step, p.v["credential"])
	case "continue":
		if !st.Confirmed {
			s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The two-step verification form was not sent correctly.")
			return
		}
		s.signIn(w, r, req, st.Sub, secondFactorAuth(st.AMR, AMROTP))
	default:
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The two-step verification form was not sent correctly.")
	}
}

// secondFactorAuth is the first factor's methods with the second's
// (AMROTP: a code, AMRHardwareKey: a passkey) and AMRMultiFactor.
func secondFactorAuth(first []string, method string) Authentication {
	amr := slices.Clone(first)
	for _, m := range []string{method, AMRMultiFactor} {
		if !slices.Contains(amr, m) {
			amr = append(amr, m)
		}
	}
	return Authentication{AMR: amr}.normalized()
}

// checkCode runs check (a code, a recovery code or an enrolment's
// confirmation) under the login budgets, as a password is checked: every
// wrong code counts against the subject and the address, concurrent ones
// included. It reports whether check passed; otherwise it has answered
// (the page again with bad, 429, or 503). enrolled says which page to
// show again.
func (s *Server) checkCode(w http.ResponseWriter, r *http.Request, req *authzRequest, st mfaPending, enrolled bool, check func() error, bad string) bool {
	ctx := r.Context()
	res, wait, err := s.attempts.Reserve(ctx, s.codeKeys(st.Sub, s.addrKey(r))...)
	if err != nil {
		s.mfaUnavailable(w, "second factor: counting the attempt failed", err)
		return false
	}
	if res == nil {
		s.metrics.throttled("login")
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfter(wait), 10))
		s.showSecondFactor(w, r, req, st, enrolled, http.StatusTooManyRequests, fmt.Sprintf(msgTooManyCode, roundMinutes(wait)))
		return false
	}
	err = check()
	switch {
	case err == nil:
		if err := res.Succeeded(ctx); err != nil {
			s.log.Warn("second factor: returning the attempt failed", "error", err)
		}
		return true
	case errors.Is(err, mfa.ErrBadCode), errors.Is(err, mfa.ErrReplayed), errors.Is(err, mfa.ErrNotFound), errors.Is(err, mfa.ErrEnrolled):
		res.Failed()
		s.log.Info("second factor failed", "sub", oauth.Clip(st.Sub), "client_id", req.clientID, "address", s.logAddr(r), "reason", err)
		s.showSecondFactor(w, r, req, st, enrolled || errors.Is(err, mfa.ErrEnrolled), http.StatusOK, bad)
		return false
	default:
		res.Cancel(ctx)
		s.mfaUnavailable(w, "second factor: the store failed", err)
		return false
	}
}

// codeKeys are the budgets a code draws on: the login budgets' limits,
// per subject (the user is known once the first factor passed).
func (s *Server) codeKeys(subject, addr string) []throttle.Key {
	sub := "otp:s:" + subject
	return []throttle.Key{
		{Name: "otp:" + addr, Limit: s.limits.LoginPerAddress},
		{Name: sub + "\x00" + addr, Limit: s.limits.LoginPerUserAndAddress, ResetOnSuccess: true},
		{Name: sub, Limit: s.limits.LoginPerUser},
	}
}

// restartSignIn answers a second-factor form whose state expired: the
// login page again (or an error page with a login UI).
func (s *Server) restartSignIn(w http.ResponseWriter, r *http.Request, req *authzRequest) {
	if s.oidc.loginUI != nil {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Sign in again", msgMFAExpired)
		return
	}
	s.renderLogin(w, r, req, http.StatusBadRequest, msgMFAExpired, "")
}

// mfaUnavailable logs err and answers 503.
func (s *Server) mfaUnavailable(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "error", err)
	w.Header().Set("Retry-After", "1")
	s.oidc.pages.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "Signet cannot sign you in right now. Please try again in a moment.")
}

// groupKey shows a base32 key in groups of four, easier to type.
func groupKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k[i:min(i+4, len(k))])
	}
	return b.String()
}
