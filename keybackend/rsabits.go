package keybackend

import (
	"crypto"
	"crypto/rsa"
)

// rsaBitsOf returns the modulus size of an RSA public key, or 0.
func rsaBitsOf(pub crypto.PublicKey) int {
	if k, ok := pub.(*rsa.PublicKey); ok {
		return k.N.BitLen()
	}
	return 0
}
