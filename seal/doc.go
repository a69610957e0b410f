// Package seal protects private keys at rest.
//
// A [Sealer] holds an ordered list of secrets. It seals with AES-256-GCM
// under a key derived (HKDF-SHA256) from the first secret, binding the kid
// and the algorithm as additional data, so a sealed key cannot be moved to
// another record. It opens with any listed secret, which is how a secret
// is rotated: put the new secret first, keep the old one second, re-seal
// every key, then drop the old one.
//
// Sealed format (version 1):
//
//	0x01 | secret id (8 bytes) | nonce (12 bytes) | ciphertext+tag
//
// The secret id is derived from the secret, not the secret itself, so an
// error can say which secret a key needs without revealing it.
package seal
