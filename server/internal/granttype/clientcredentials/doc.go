// Package clientcredentials is the client_credentials grant (RFC 6749
// 4.4): a confidential client gets an access token for itself, with the
// scopes and audience its request's scope and resource (RFC 8707)
// parameters ask for. Public clients cannot use it: only the secret
// methods authenticate here (clientauthn/secret).
//
// The handler checks that the client may use the grant and leaves the
// token to its Env: the server works out the grant (scopes, audience,
// allowed algorithms, cached per client) and signs the token in pooled
// memory (server/token.go), the hot path the load benchmark measures.
package clientcredentials
