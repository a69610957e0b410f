package server

import (
	"net/http"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// logAddr is the client's address for a log line: the address clientAddr
// finds (behind trusted proxies, from X-Forwarded-For), else the peer as
// net/http gives it.
func (s *Server) logAddr(r *http.Request) string {
	if ip, ok := s.clientAddr(r); ok {
		return ip.String()
	}
	return r.RemoteAddr
}

// authFailed logs a failed client (or API resource, what) authentication
// at INFO, with the id it claimed, its address and the reason, never the
// secret; and returns the answer it gets: invalid_client, which tells
// nothing of the reason.
func (s *Server) authFailed(r *http.Request, what, id, reason string) *oauth.Error {
	return s.authRefused(r, what, id, reason, oauth.InvalidClient(what+" authentication failed"))
}

// authRefused logs a failed authentication like authFailed and returns e.
func (s *Server) authRefused(r *http.Request, what, id, reason string, e *oauth.Error) *oauth.Error {
	s.log.Info(what+" authentication failed", "client_id", oauth.Clip(id), "address", s.logAddr(r), "reason", reason, "path", r.URL.Path)
	return e
}

// grantRefused logs why a code or refresh token g was refused (expired,
// revoked, another client's; a reuse is logged where it is handled) and
// returns the one answer the client gets for it.
func (s *Server) grantRefused(r *http.Request, g grantstore.Grant, what, reason string) *oauth.Error {
	s.log.Info(what+" refused", "reason", reason, "client_id", g.ClientID, "sub", g.Subject, "address", s.logAddr(r))
	if g.Kind == grantstore.KindRefreshToken {
		return oauth.InvalidGrant(msgBadRefresh)
	}
	return oauth.InvalidGrant(msgBadCode)
}
