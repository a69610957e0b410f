// Package dpopjkt is the dpop_jkt authorization-request extension (RFC
// 9449 section 10): a client binds the authorization code to the
// thumbprint of its DPoP key, so that only a token request with a proof
// by that key can redeem it. At a pushed authorization request (RFC 9126)
// a DPoP proof sent with the request binds the code the same way.
package dpopjkt
