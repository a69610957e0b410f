// Package clientauthn is client authentication at the token endpoint
// (and at revocation, which authenticates clients the same way): the
// [Method] interface, one implementation per token_endpoint_auth_method
// in the packages below this one, and [Authenticate], which asks the
// methods in order.
//
//	clientauthn/secret          client_secret_basic and client_secret_post
//	clientauthn/privatekeyjwt   private_key_jwt: a JWT signed by the client's key
//	clientauthn/none            public clients: client_id alone
//
// A method first says whether a
// request uses it and what it presents ([Method.Present]), then verifies
// that against the client the request names ([Method.Verify]). What a
// method needs from the server (the secret check under the abuse
// budgets, the security log) comes through [Env], given at assembly.
package clientauthn
