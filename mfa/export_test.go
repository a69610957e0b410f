package mfa

// B32 decodes a key for the tests.
func B32(key string) ([]byte, error) { return b32.DecodeString(key) }
