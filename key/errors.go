package key

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers check them with errors.Is.
var (
	// ErrUnknownAlgorithm: an algorithm name is not one Signet supports.
	ErrUnknownAlgorithm = errors.New("key: unknown signing algorithm")
	// ErrInvalidOptions: the key management options break a rule.
	ErrInvalidOptions = errors.New("key: invalid key management options")
	// ErrInvalidRecord: a stored key record is malformed.
	ErrInvalidRecord = errors.New("key: invalid key record")
)
