// Package authorize holds the vocabulary of authorization-request
// extensions: the parameters an extension reads at the authorization
// endpoint ([Request]), what it binds to the authorization code
// ([Binding]), and the [Extension] interface through which the server's
// authorization endpoint and the authorization_code grant call it.
//
// Each extension lives in a package of its own below this one: pkce
// (RFC 7636) today; PAR, DPoP's dpop_jkt and request objects go next to
// it. The server checks an authorization request itself (client,
// redirect URI, response type, scopes), then calls every extension in
// order; the first error goes to the client's redirect URI.
package authorize
