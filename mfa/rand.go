package mfa

import "crypto/rand"

// cryptoRand reads crypto/rand.
type cryptoRand struct{}

func (cryptoRand) Read(p []byte) (int, error) { return rand.Read(p) }
