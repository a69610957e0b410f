// Package connector holds the upstream identity sources people sign in
// through besides Signet's own users: an OpenID Connect provider
// (connector/oidc) or an LDAP directory. They are further implementations
// of package user's interfaces: the token server asks them, through a
// [Set], exactly what it asks any user source (is the subject active,
// which claims), and knows nothing else of where a user came from.
//
// A connector is one of two kinds:
//
//   - a [Password] connector (LDAP) checks a username and a password:
//     it is a user.Authenticator, called by the server under the same
//     login budgets as a local password;
//   - a [Redirect] connector (OpenID Connect) sends the browser to the
//     upstream provider ([Redirect.AuthCodeURL]) and finishes the sign-in
//     when the browser comes back ([Redirect.Exchange]). The server binds
//     the round trip to the pending authorization request and to the
//     browser: the state, the nonce and the PKCE verifier it hands the
//     connector are derived from the browser's CSRF key.
//
// # Subjects
//
// Every connector user's subject is "<connector id>:<upstream id>"
// ([Subject]): stable, and namespaced per connector, so the same person
// signing in through two connectors is two subjects. A [Set] routes a
// subject to its connector by that prefix, and every other subject to the
// local user source.
//
// # Refresh
//
// At a refresh the server marks the context (user.ForRefresh); a
// connector's Active then checks the upstream user (an LDAP search, or
// the upstream refresh token of an OpenID Connect sign-in), so a disabled
// upstream account stops refreshing within one refresh.
package connector
