// Package jws produces compact JWS (RFC 7515) signatures for tokens.
//
// A [Key] binds a kid and an algorithm to a [crypto.Signer] (the private key
// itself never leaves the signer, so an HSM or the OpenSSL backend can sit
// behind it) and pre-encodes the protected headers it signs most often, so
// that the token path does no header JSON work. Verification is not here:
// relying parties and tests use go-jose with an algorithm allowlist.
package jws
