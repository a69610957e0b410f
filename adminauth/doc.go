// Package adminauth authorises calls to Signet's admin API (/admin/v1/)
// with access tokens Signet itself issued, verified the way an outside
// API verifies them: against the key set the JWKS endpoint publishes
// (never the private keys, never a shortcut through the key manager's
// state), with go-jose, an algorithm allowlist, the issuer, the audience
// "signet-admin", exp/nbf with a small leeway and the RFC 9068 typ
// at+jwt. A key that was retired and deleted is no longer published, so a
// token it signed is refused: the key rotation story covers the admin API.
//
// There is no other way in: no API key, no unauthenticated port.
// [Verifier.Require] answers RFC 6750 errors: 401 invalid_token (missing,
// malformed, unverifiable, expired, wrong issuer or audience) and 403
// insufficient_scope (a read token doing a write).
package adminauth
