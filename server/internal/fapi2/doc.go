// Package fapi2 holds what the server enforces at run time for a client
// with securityProfile: fapi2 (the FAPI 2.0 Security Profile, Final).
// The configuration side (config check explaining every setting that
// contradicts the profile) is package config's; this package answers the
// questions the endpoints ask of a request:
//
//   - [Algorithms], [Restrict]: PS256, ES256 and EdDSA only, for the
//     client's access and ID tokens;
//   - [AuthMethodAllowed]: private_key_jwt (or mutual TLS, which Signet
//     does not offer) at the token and pushed authorization request
//     endpoints, never a shared secret;
//   - [MinReuseInterval]: refresh tokens rotate, and the rotated one keeps
//     working for the client's reuse interval, which must not be zero.
//
// The other rules are enforced where the request is checked: pushed
// authorization requests required (server/par.go, checkAuthorize), PKCE
// with S256 required (authorize/pkce through authorize.Request.RequirePKCE),
// DPoP-bound tokens (the client's requireDPoP), response_type code only,
// codes living 60 s and iss in every authorization response (for every
// client).
package fapi2
