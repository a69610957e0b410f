// Package server is Signet's HTTP front: OpenID Connect discovery, the
// JWKS, the OAuth 2.0 token endpoint (client_credentials, issuing RFC 9068
// JWT access tokens), health, readiness and Prometheus metrics.
//
// # Endpoints
//
//	GET  {issuer path}/.well-known/openid-configuration        discovery
//	GET  {issuer path}/.well-known/openid-configuration/jwks   the JWK set (ETag, 304, Cache-Control)
//	POST {issuer path}/connect/token                           the token endpoint
//	GET  /healthz   the process is up
//	GET  /readyz    every configured algorithm can sign and the store is reachable (503 otherwise)
//	GET  /metrics   Prometheus metrics
//
// The server reads keys through the small [Keys] interface, which
// *keymanager.Manager implements; tests use fakes.
//
// # The token path
//
// Everything that depends only on the configuration is computed when the
// configuration is set: each client's default grant (scopes, audience,
// allowed algorithms) with its JSON fragments, the issuer's JSON string.
// A request parses its form body with a small hand-written parser, checks
// the client secret in constant time, appends the claims to a byte slice
// (no reflection) and signs through the key manager's immutable snapshot.
//
// Errors follow RFC 6749 section 5.2: a JSON body with error and
// error_description, 400 or 401 (with WWW-Authenticate), Cache-Control:
// no-store and Pragma: no-cache.
package server
