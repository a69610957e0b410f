// Package jwk is Signet's key material codec: it generates keys for an
// algorithm, wraps them in self-signed certificates, converts private keys
// to and from PKCS#8, parses operator-supplied keys (PEM in PKCS#1, PKCS#8,
// SEC1 or X.509 form, and JWK JSON), and encodes public JWKs and JWK sets
// with go-jose.
//
// Only this package, package seal and the key manager ever see private key
// bytes. Public JWKs are built from public keys only, so a private member
// cannot reach a JWKS by construction.
package jwk
