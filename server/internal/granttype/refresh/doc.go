// Package refresh is the refresh_token grant (RFC 6749 6) with rotation
// (RFC 9700 4.14.2): every use returns a new refresh token, and a second
// use of one revokes its whole family with the access tokens known to it.
// It also holds the shapes of refresh token handles (family id, a dot,
// the secret part) and the derivation of a successor's handle.
//
// # Refresh under concurrency
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
//
// # Bounded families
//
// A rotation deletes the family's tokens consumed
// before the one it rotates (grant.Store.Rotate): a family keeps its
// current token and the one just rotated, which the reuse interval needs.
// A refresh token's handle starts with its family id and a dot, so the
// use of a deleted, superseded token is still recognised as a reuse and
// revokes the family: the family id is random, and only holders of the
// family's tokens know it. Handles of earlier versions (no family id) are
// unknown once deleted, as before.
package refresh
