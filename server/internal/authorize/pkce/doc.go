// Package pkce is Proof Key for Code Exchange (RFC 7636) as an
// authorization-request extension: the authorization endpoint accepts
// code_challenge with code_challenge_method=S256 (plain is refused) and
// requires it from public clients; the authorization_code grant checks
// code_verifier against the challenge bound to the code, in constant
// time, and refuses a verifier for a code that had no challenge (a
// downgrade attempt).
package pkce
