package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	grantstore "github.com/signet-id/signet/grant"
)

// Refresh under concurrency.
//
// A client that refreshes from several requests at once (oauth2-proxy
// with its cookie session store sends one refresh per parallel request)
// presents the same refresh token several times. With strict rotation
// every use after the first is a reuse and revokes the family, ending the
// session even for the request whose refresh succeeded.
//
// Within the client's refreshTokenReuseInterval after a rotation, the same
// client presenting the just-rotated token gets what the rotation gave:
// the same successor refresh token (derived, not stored twice: one row per
// rotation, however many requests), a new access token with the same jti
// (so a later family revocation covers it) and a new ID token. Outside the
// interval, or once the successor has itself been used, the reuse is
// detected and the family revoked as before. A thief presenting the token
// within the interval gets the successor the client holds, not a branch of
// its own: the next use of it by the other party after the interval is
// detected. RFC 9700 4.14.2 asks that a reuse be detected; the interval
// delays that detection by at most its length.

// successorHandle derives the handle of the refresh token that follows
// the one with handle, from its stored seed: HMAC-SHA256 under the seed.
// The store holds the seed and only the hash of handle, so a reader of
// the database cannot compute a successor; without the seed, neither can
// the holder of handle. An empty seed (a token of an earlier version)
// gives "": a random successor.
func successorHandle(seed, handle string) string {
	if seed == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte("signet refresh successor\x00"))
	m.Write([]byte(handle))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// reuseAllowed reports whether a second use at now of the consumed
// refresh token g is within its client's reuse interval. A consumption
// time after now (another instance's clock) counts as within.
func reuseAllowed(lc *loginClient, g grantstore.Grant, d refreshData, now time.Time) bool {
	return lc.reuseInterval > 0 && d.Seed != "" && g.Revoked.IsZero() && !g.Consumed.IsZero() &&
		now.Sub(g.Consumed) < lc.reuseInterval
}

// successorUnused checks, for a use within the reuse interval, that the
// presented token is the just-rotated one: its successor has not been
// used (or revoked). Otherwise it is a reuse after all: the family is
// revoked.
func (s *Server) successorUnused(r *http.Request, g grantstore.Grant, d refreshData, lc *loginClient, successor string) *oauthError {
	next, err := s.oidc.grants.Grant(r.Context(), grantstore.HashHandle(successor))
	switch {
	case errors.Is(err, grantstore.ErrNotFound): // its rotation has not stored it yet
	case err != nil:
		s.log.Error("refresh: reading the successor of a reused refresh token failed", "error", err)
		return unavailable()
	case !next.Consumed.IsZero() || !next.Revoked.IsZero():
		s.refreshReused(r, g, d, lc)
		return invalidGrant(msgBadRefresh)
	}
	s.log.Info("refresh token presented again within the reuse interval; answered with its successor",
		"client_id", g.ClientID, "sub", g.Subject, "since_rotation", s.now().Sub(g.Consumed).String())
	return nil
}
