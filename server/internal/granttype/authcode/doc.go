// Package authcode is the authorization_code grant (RFC 6749 4.1.3): a
// client redeems a code the authorization endpoint issued, once, with the
// redirect URI it was issued for and what the authorization-request
// extensions bound it to (PKCE's code_verifier: server/internal/authorize).
// A second use revokes what the first issued (RFC 6749 10.5). The code is
// used up and the refresh token (with offline_access) stored in one
// transaction of the grant store.
package authcode
