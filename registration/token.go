package registration

import (
	"io"

	"github.com/signet-id/signet/clientauth"
)

// NewSecret returns a random secret (a registration access token or a
// client secret: 32 bytes, base64url) and the only form of it that is
// stored, "sha256:<hex>".
func NewSecret(rnd io.Reader) (secret, stored string, err error) {
	secret, err = clientauth.GenerateSecret(rnd)
	if err != nil {
		return "", "", err
	}
	return secret, clientauth.HashSHA256(secret), nil
}

// CheckSecret reports whether presented matches the stored form, in
// constant time with respect to it; a malformed stored form matches
// nothing.
func CheckSecret(stored, presented string) bool {
	s, err := clientauth.ParseSecret(stored)
	if err != nil || s.Kind() != clientauth.KindSHA256 || presented == "" {
		return false
	}
	return s.Verify(presented)
}
