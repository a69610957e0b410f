// Package granttype is the token endpoint's grant types: the [Handler]
// interface, the [Request] a handler gets (parsed, with its client
// authenticated), the [Response] it returns, and the stored payloads of
// codes and refresh tokens ([CodeData], [RefreshData]). One package per
// grant type lives below this one:
//
//	granttype/clientcredentials   client_credentials (RFC 6749 4.4)
//	granttype/authcode            authorization_code (RFC 6749 4.1.3)
//	granttype/refresh             refresh_token, with rotation and the reuse interval
//
// (The grant store, where codes and refresh tokens are kept, is the
// module's package grant.)
//
// The server's token endpoint (server/token.go) reads and parses the
// body, picks the handler by grant_type, authenticates the client with
// the methods the grant allows (server/internal/clientauthn) and calls
// [Handler.Handle]; it writes the response and counts it. What a handler
// needs from the server (the grant store, signing, the clock, the log) it
// gets through an Env interface given at assembly.
package granttype
