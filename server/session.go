package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Cookies of the login flows. Both are HttpOnly, SameSite=Lax, scoped to
// the issuer's path, and Secure when the issuer is https.
const (
	// sessionCookie holds the login session's handle; the store keeps
	// only its hash (a session grant).
	sessionCookie = "signet_session"
	// csrfCookie holds a random key; a form's CSRF token is an HMAC
	// under it of what the form submits (the pending authorization
	// request), so only a page this server rendered for this browser can
	// submit it.
	csrfCookie = "signet_csrf"
)

// session is a login session.
type session struct {
	id       string // the session grant's id
	sid      string // the sid claim
	authTime time.Time
	subject  string // the user
	// auth is how the user signed in (normalized).
	auth Authentication
	// pending is the grant of a session not stored yet (newSession),
	// handle its cookie's value and end the session it replaces (ID and
	// SessionID; zero for none).
	pending *grantstore.Grant
	handle  string
	end     grantstore.Grant
}

// currentSession returns the request's login session, or nil when it has
// none that is valid (no cookie, unknown, expired, revoked, or its user
// is no longer active: user.Profiles.Active). The error is a failure of
// the grant store or of the user source.
func (s *Server) currentSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || !validHandle(c.Value) {
		return nil, nil
	}
	g, err := s.oidc.grants.Grant(r.Context(), grantstore.HashHandle(c.Value))
	if errors.Is(err, grantstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if g.Kind != grantstore.KindSession || !g.Revoked.IsZero() || !s.now().Before(g.Expires) {
		return nil, nil
	}
	active, err := s.oidc.source.Active(r.Context(), g.Subject)
	if err != nil {
		return nil, fmt.Errorf("server: the user source: %w", err)
	}
	if !active {
		return nil, nil
	}
	return &session{id: g.ID, sid: g.SessionID, authTime: g.Created, subject: g.Subject, auth: decodeSessionData(g.Data)}, nil
}

// newSession makes a new login session for subject, to be stored by issueCode
// with the session's first code, ending the session end (zero for none);
// auth (normalized) is how the user signed in.
func (s *Server) newSession(subject string, end grantstore.Grant, auth Authentication) (*session, error) {
	handle, err := s.randomHandle(32)
	if err != nil {
		return nil, err
	}
	sid, err := s.randomHandle(16)
	if err != nil {
		return nil, err
	}
	now := s.now()
	data, _ := json.Marshal(sessionData{AMR: auth.AMR, ACR: auth.ACR}) // cannot fail: strings
	g := grantstore.Grant{ID: grantstore.HashHandle(handle), Kind: grantstore.KindSession, Subject: subject,
		SessionID: sid, Data: data, Created: now, Expires: now.Add(s.oidc.sessionLifetime)}
	return &session{id: g.ID, sid: sid, authTime: now, subject: subject, auth: auth, pending: &g, end: end, handle: handle}, nil
}

// endLoginSession ends sess: its session grant is revoked, then the codes
// it issued and nobody redeemed are deleted (a code being issued at the
// same moment is either refused, the session being revoked, or deleted:
// the store serializes both per session). Refresh tokens outlive it. The
// error is the revocation's: once the session is revoked, a failure to
// delete its codes is logged (they expire within CodeLifetime).
func (s *Server) endLoginSession(ctx context.Context, sess *session) error {
	if err := s.oidc.grants.RevokeGrant(ctx, sess.id, s.now()); err != nil {
		return err
	}
	s.deleteSessionCodes(ctx, sess.sid)
	return nil
}

// deleteSessionCodes deletes the unredeemed codes of the login session
// sid, which was just revoked. A failure is logged: the codes expire
// within CodeLifetime.
func (s *Server) deleteSessionCodes(ctx context.Context, sid string) {
	if _, err := s.oidc.grants.DeleteSessionCodes(ctx, sid); err != nil {
		s.log.Error("the login session ended, but deleting its unredeemed codes failed; they expire on their own", "error", err)
	}
}

// cookie returns a login-flow cookie. maxAge 0 makes a browser-session
// cookie; negative deletes it.
func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: s.oidc.cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: s.oidc.secureCookies, SameSite: http.SameSiteLaxMode}
}

// validHandle reports whether v has the shape of a 32-byte base64url
// handle (oauth.ValidHandle).
func validHandle(v string) bool { return oauth.ValidHandle(v) }

// csrfKey returns the browser's CSRF key, setting a new cookie when the
// request has none.
func (s *Server) csrfKey(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(csrfCookie); err == nil && validHandle(c.Value) {
		return c.Value, nil
	}
	k, err := s.randomHandle(32)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, s.cookie(csrfCookie, k, 0))
	return k, nil
}

// csrfToken binds a form to the browser's CSRF key: the HMAC-SHA256 under
// the key of the form's purpose and of what it submits.
func csrfToken(key, purpose, data string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(data))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfValid checks a submitted CSRF token in constant time.
func csrfValid(r *http.Request, token, purpose, data string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validHandle(c.Value) {
		return false
	}
	return hmac.Equal([]byte(token), []byte(csrfToken(c.Value, purpose, data)))
}
