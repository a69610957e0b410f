// Package clientauth checks OAuth 2.0 client secrets and parses the HTTP
// Basic credentials clients send them in.
//
// # Secret formats
//
// A configured secret is one of:
//
//	sha256:<64 hex digits>   SHA-256 of a generated, high-entropy secret (fast path)
//	$argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>   a PHC string, for human-chosen secrets
//	plain:<secret>           the secret itself (for development; warned at start-up)
//
// [HashSHA256] and [HashArgon2id] produce the first two forms; `signet
// hash-secret` prints them.
//
// Every comparison is constant-time: a presented secret is hashed and the
// digests are compared with crypto/subtle, so neither the content nor the
// length of a configured secret leaks through timing. A successful argon2id
// verification is remembered as the SHA-256 of the accepted secret, so a
// client that authenticates often pays the argon2id cost once.
//
// # HTTP Basic
//
// [ParseBasicCredentials] decodes client_secret_basic per RFC 6749
// section 2.3.1 (form-urlencoded id and secret) and keeps what a client
// that does not form-encode (curl -u, authlib) meant: a secret whose '+'
// was sent raw is tried as sent when the decoded one does not match
// ([VerifyBasic]), and an id that is a URL with unencoded colons is found
// by [BasicCredentials.Resolve]. Only argon2id secrets can pay for the
// fallback: a second hash, only for a secret sent with a '+' whose
// decoded form failed, and only until the raw form succeeds once.
package clientauth
