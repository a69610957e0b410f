package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
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

// Bounded families. A rotation deletes the family's tokens consumed
// before the one it rotates (grant.Store.Rotate): a family keeps its
// current token and the one just rotated, which the reuse interval needs.
// A refresh token's handle starts with its family id and a dot, so the
// use of a deleted, superseded token is still recognised as a reuse and
// revokes the family: the family id is random, and only holders of the
// family's tokens know it. Handles of earlier versions (no family id) are
// unknown once deleted, as before.

// familyHandle returns the handle of a refresh token of family whose
// secret part is secret.
func familyHandle(family, secret string) string {
	return family + "." + secret
}

// handleFamily returns the family id a refresh-token handle starts with,
// or "" when it has none.
func handleFamily(handle string) string {
	fam, secret, ok := strings.Cut(handle, ".")
	if !ok || !validHandle(secret) || len(fam) != familyIDLen {
		return ""
	}
	for i := 0; i < len(fam); i++ {
		if !base64URLChar(fam[i]) {
			return ""
		}
	}
	return fam
}

// familyIDLen is the length of a family id: 16 random bytes, base64url.
const familyIDLen = 22

// validRefreshHandle reports whether v has the shape of a refresh token's
// handle: with a family id, or of an earlier version.
func validRefreshHandle(v string) bool {
	return validHandle(v) || handleFamily(v) != ""
}

// supersededUsed handles a refresh token of the client lc that is not in
// the store: when its handle names a live family of that client, it is a
// superseded token of the family (deleted by a later rotation) used
// again, and the family is revoked with every access token its stored
// grants know.
func (s *Server) supersededUsed(r *http.Request, handle string, lc *loginClient, clientID string) {
	fam := handleFamily(handle)
	if fam == "" {
		return
	}
	gs, err := s.oidc.grants.FamilyGrants(r.Context(), fam)
	if err != nil {
		s.log.Error("reading the family of an unknown refresh token failed", "error", err)
		return
	}
	var jtis []string
	live := false
	for _, g := range gs {
		if g.ClientID != clientID {
			return
		}
		live = live || (g.Kind == grantstore.KindRefreshToken && g.Revoked.IsZero())
		var d refreshData // a code's data has its jti too
		if json.Unmarshal(g.Data, &d) == nil {
			jtis = append(jtis, d.JTI, d.NextJTI)
		}
	}
	if !live {
		return
	}
	s.log.Warn("superseded refresh token used again; revoking its family", "client_id", clientID, "sub", gs[0].Subject)
	if err := s.revokeFamily(r.Context(), fam, lc.accessLifetime, jtis...); err != nil {
		s.log.Error("revoking a reused refresh token's family failed", "client_id", clientID, "error", err)
	}
}

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
// revoked. stored reports whether the successor is in the store (a
// rotation by an earlier version stored it separately, maybe not yet).
func (s *Server) successorUnused(r *http.Request, g grantstore.Grant, d refreshData, lc *loginClient, successor string) (stored bool, e *oauthError) {
	next, err := s.oidc.grants.Grant(r.Context(), grantstore.HashHandle(successor))
	switch {
	case errors.Is(err, grantstore.ErrNotFound):
	case err != nil:
		s.log.Error("refresh: reading the successor of a reused refresh token failed", "error", err)
		return false, unavailable()
	case !next.Consumed.IsZero() || !next.Revoked.IsZero():
		s.refreshReused(r, g, d, lc)
		return true, invalidGrant(msgBadRefresh)
	default:
		stored = true
	}
	s.log.Info("refresh token presented again within the reuse interval; answered with its successor",
		"client_id", g.ClientID, "sub", g.Subject, "since_rotation", s.now().Sub(g.Consumed).String())
	return stored, nil
}
