// Package server is Signet's HTTP front: OpenID Connect discovery, the
// JWKS, the OAuth 2.0 token endpoint (client_credentials, issuing RFC 9068
// JWT access tokens), health, readiness and Prometheus metrics.
//
// # Endpoints
//
//	GET  {issuer path}/.well-known/openid-configuration        discovery
//	GET  {issuer path}/.well-known/openid-configuration/jwks   the JWK set (ETag, 304, Cache-Control)
//	POST {issuer path}/connect/token                           the token endpoint
//	GET, POST {issuer path}/connect/authorize                  authorization endpoint (code flow, PKCE S256)
//	POST {issuer path}/connect/par                             pushed authorization requests (RFC 9126)
//	GET, POST {issuer path}/account/login                      the login page
//	POST {issuer path}/account/consent                         the consent page's decision (Client.RequireConsent)
//	GET, POST {issuer path}/account                            the account page: remembered consents, revocable
//	GET, POST {issuer path}/connect/userinfo                   UserInfo (Bearer, or DPoP with a proof)
//	POST {issuer path}/connect/introspect                      RFC 7662, for API resources with secrets or keys
//	POST {issuer path}/connect/revocation                      RFC 7009
//	GET, POST {issuer path}/connect/endsession                 RP-initiated logout
//	GET  /healthz   the process is up
//	GET  /readyz    {"status":"ready"} (200), "degraded" (200: signs tokens, but the store
//	                does not answer: sign-in, refresh and userinfo fail) or "not ready"
//	                (503: a configured algorithm cannot sign); the status alone
//
// [Server.AdminHandler], for the admin listener (adminListen), serves
//
//	GET  /metrics   Prometheus metrics (not served by ServeHTTP)
//	GET  /readyz    the same status and code, with the detail: tokens, signIn,
//	                store (with its error) and each algorithm's state
//	GET  /healthz   the process is up
//
// Until the instance is ready, the JWKS and discovery answer 503 with
// Cache-Control: no-store and Retry-After.
//
// Discovery and the JWKS allow any origin (CORS); token, userinfo and
// revocation allow the origins clients list in AllowedCORSOrigins and
// answer their preflights (cors.go).
//
// The server reads keys through the small [Keys] interface, which
// *keymanager.Manager implements; tests use fakes.
//
// # Where is what
//
// This package routes and assembles (New, Config, the mux, middleware,
// CORS, health, metrics, throttling glue, login, sessions, userinfo,
// introspection, revocation, end session). The token endpoint and the
// authorization endpoint run a small pipeline (pipeline.go) whose parts
// live in packages of their own under server/internal, each behind a
// small interface, with what they need from the server passed in at
// assembly (an Env), never global state:
//
//	internal/oauth                     shared vocabulary: oauth.Error and its JSON rendering, scopes, handles
//	internal/clientauthn               clientauthn.Method; Authenticate asks the methods in order
//	internal/clientauthn/secret        client_secret_basic, client_secret_post (secret check: throttle.go)
//	internal/clientauthn/privatekeyjwt private_key_jwt: client assertions (rules: clientauth/privatekeyjwt; jtis and JWKS cache: clientkeys.go)
//	internal/clientauthn/none          public clients: client_id alone
//	internal/granttype                 granttype.Handler, Request, Response, the codes' and refresh tokens' payloads
//	internal/granttype/clientcredentials   client_credentials (token signing: token.go)
//	internal/granttype/authcode        authorization_code
//	internal/granttype/refresh         refresh_token: rotation, reuse interval, family revocation
//	internal/authorize                 authorize.Extension: checks at authorize, binds the code, checks at redemption
//	internal/authorize/pkce            PKCE (RFC 7636), S256
//	internal/authorize/dpopjkt         dpop_jkt (RFC 9449 section 10): the code bound to a DPoP key
//	internal/dpopbinding               DPoP (RFC 9449) at the token endpoint, PAR and userinfo: proofs
//	                                   (package dpop), jti in the grant store, nonces, challenges
//	internal/requestobject             request objects (RFC 9101): the rules (wired in requestobject.go)
//	internal/fapi2                     the FAPI 2.0 Security Profile's run-time rules (securityProfile: fapi2)
//	par.go                             PAR (RFC 9126): the endpoint, request_uri at authorize, the login page's pending reference
//
// The token endpoint (token.go) reads and parses the body, picks the
// grant type's handler by grant_type (unknown: unsupported_grant_type,
// before client authentication), authenticates the client with the
// methods the grant allows (secret methods; with none for the grants
// public clients use), checks a DPoP proof if there is one (after client
// authentication, so unauthenticated requests record no jti), calls the
// handler, writes its response and counts it. The authorization endpoint
// (authorize.go) first resolves a pushed request (request_uri, par.go) or
// a request object (request, requestobject.go) into the request's
// parameters, checks client, redirect URI, response type and scopes
// itself, then calls each extension; the PAR endpoint authenticates the
// client as the token endpoint does and runs the same checks.
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
//
// # The login flows
//
// With Config.Grants set, users sign in through the authorization code
// flow (oidc.go and the files it names). Everything a flow must remember
// is a grant in that store, never process memory: authorization codes
// (single use, 60 s, bound to client, redirect URI and PKCE challenge),
// refresh tokens (rotated; a reuse revokes the family), login sessions
// (the cookie holds a handle, the store its hash) and revoked access
// tokens (by jti). So another instance, or a restarted one, honours them.
// A code or refresh token carries the jti of the access token its
// redemption issues, fixed in advance, so that a replay can revoke it.
// The users come from one user.Source (users.go): Config.UserSource, or
// the built-in static list Config.Users (the YAML users) behind the same
// interfaces. Passwords are checked under the login budgets whatever the
// source; the source says whether a user is still active (login sessions,
// code exchange, refresh, userinfo) and gives the claims (userinfo, ID
// tokens). Config.Login replaces the built-in page with the application's
// own (loginui.go: LoginUI, LoginRequest), which ends a sign-in with
// LoginRequest.Complete on a POST whose CSRF token the server verified.
// The login page is html/template embedded in the binary; its CSRF token
// is an HMAC, under a random per-browser cookie key, of the pending
// authorization request it submits. Failed sign-ins are limited per
// username and per address in bounded memory. Access tokens presented to
// userinfo, introspection and revocation are verified against the key
// manager's current JWKS.
package server
