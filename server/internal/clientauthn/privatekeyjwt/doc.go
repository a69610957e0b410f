// Package privatekeyjwt is the private_key_jwt client authentication
// method (RFC 7523 section 2.2, OpenID Connect Core section 9) in the
// server's pipeline: it takes client_assertion_type and client_assertion
// from the body, parses the assertion to find the client it names, and
// verifies it against that client's keys with the verifier of package
// github.com/signet-id/signet/clientauth/privatekeyjwt, which holds every
// rule (iss, sub, aud, exp, jti replay, algorithms, keys).
//
// Every refusal is invalid_client "client authentication failed", with
// the rule the assertion broke logged through clientauthn.Env.Refused. A
// request that also sends a secret or an Authorization header is refused
// as authenticating twice.
package privatekeyjwt
