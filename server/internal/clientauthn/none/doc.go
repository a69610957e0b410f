// Package none is the client authentication method none: a public
// client (one without secrets, which must use PKCE) names itself with
// client_id alone. It is accepted only where public clients may
// authenticate (clientauthn.Request.Public).
package none
