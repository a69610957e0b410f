// Package jwsverify verifies a JWS signature with a public key already
// parsed and checked, exactly as go-jose's verifiers do, for the verifiers
// that remember a header they parsed with go-jose once (DPoP proofs,
// client assertions): the same algorithms, hashes and signature formats,
// without parsing the header and the key again for every token.
package jwsverify
