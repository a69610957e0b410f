// Package backend chooses what signs each algorithm: Go's crypto packages
// (the default, pure-Go, static build) or OpenSSL's libcrypto (built with
// -tags openssl and cgo; see package signer/openssl and docs/openssl.md).
// It is the only seam: the command opens it ([Open]), passes
// [Backend.Factory] to the key manager, prints [Description], and closes it
// when the key manager is done; metrics label algorithms with [Name].
// Nothing else in Signet depends on the build tag.
package backend
