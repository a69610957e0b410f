// Package oidc is the upstream OpenID Connect connector: people sign in
// at another OpenID Connect provider (Google Workspace, Entra ID, Okta,
// GitLab, another Signet) and Signet issues its own tokens for them.
//
// The upstream leg is the authorization code flow with PKCE (S256), a
// state and a nonce that the server binds to the pending authorization
// request and to the browser (connector.Begin). The provider's discovery
// document is read from its issuer (go-oidc checks that it names the same
// issuer) and its ID tokens are verified against its JWKS: signature,
// iss, aud, exp and the nonce. The RFC 9207 iss parameter of the
// authorization response is checked when the provider sends it, and
// required when its discovery says it sends it. Claims come from the ID
// token, completed by the provider's userinfo (whose sub must match), and
// are mapped by the connector's ClaimMapping.
//
// A user's record (connector.Store) keeps the mapped claims and, when
// the provider granted one and a sealer is configured, the upstream
// refresh token sealed with package seal. At a refresh of Signet's tokens
// (user.IsRefresh) Active uses it: a provider that refuses it (the
// account was disabled, the grant revoked) makes the user inactive and
// the record is deleted.
package oidc
