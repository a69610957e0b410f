// Package secret holds the two client authentication methods with a
// shared secret: client_secret_basic (HTTP Basic, RFC 6749 2.3.1) and
// client_secret_post (client_id and client_secret in the body). Both
// verify through clientauthn.Env.CheckSecret, which applies the abuse
// budgets, the hashing budget and the shared verification of parallel
// requests (server/throttle.go).
package secret
