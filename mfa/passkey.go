package mfa

import (
	"context"
	"errors"
	"time"
)

// ErrTooManyPasskeys: the subject already has MaxPasskeys passkeys.
var ErrTooManyPasskeys = errors.New("mfa: too many passkeys (remove one first)")

// MaxPasskeys bounds the passkeys stored per subject.
const MaxPasskeys = 10

// Passkey is a WebAuthn credential registered as a subject's second
// factor. It holds only public data: the credential's id and public key.
type Passkey struct {
	Subject string
	// ID is the credential id (unique across subjects).
	ID []byte
	// PublicKey is the COSE public key.
	PublicKey []byte
	// SignCount is the authenticator's counter at the last use; a lower
	// one is refused (a cloned authenticator), unless both are 0.
	SignCount uint32
	// Attestation is the attestation type ("none" by default); AAGUID the
	// authenticator model.
	Attestation string
	AAGUID      []byte
	// Flags are the authenticator data flags seen at registration.
	Flags   uint8
	Created time.Time
}

// PasskeyStore keeps passkeys. Stores that have it are found by type
// assertion on the Store.
type PasskeyStore interface {
	// AddPasskey stores p; ErrEnrolled when its id exists,
	// ErrTooManyPasskeys when the subject has MaxPasskeys.
	AddPasskey(ctx context.Context, p Passkey) error
	// Passkeys returns the subject's passkeys (none: an empty list).
	Passkeys(ctx context.Context, subject string) ([]Passkey, error)
	// UsePasskey records count as the counter of the subject's passkey
	// id, only if it is above the stored one or both are 0: ErrReplayed
	// otherwise (also when the subject has no such passkey).
	UsePasskey(ctx context.Context, subject string, id []byte, count uint32) error
	// DeletePasskeys deletes the subject's passkeys and reports whether
	// there was any.
	DeletePasskeys(ctx context.Context, subject string) (bool, error)
}

// Passkeys returns the manager's passkey store, or nil when its store has
// none.
func (m *Manager) Passkeys() PasskeyStore {
	ps, _ := m.store.(PasskeyStore)
	return ps
}
