// Package oauth is the small shared vocabulary of the server's request
// pipeline: the OAuth 2.0 error response ([Error], rendered by
// [WriteError] as RFC 6749 section 5.2 JSON with its headers), the scope
// parameter ([ParseScope]), handle shapes, and the allocation-free JSON
// appenders the token path uses. It knows nothing of clients, grants or
// keys; the packages beside it (clientauthn, granttype, authorize) and
// package server build on it.
package oauth
