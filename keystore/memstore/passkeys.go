package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/signet-id/signet/mfa"
)

var _ mfa.PasskeyStore = (*Store)(nil)

// passkeyList is every subject's passkeys. Guarded by Store.mu.
type passkeyList []mfa.Passkey

func clonePasskey(p mfa.Passkey) mfa.Passkey {
	p.ID, p.PublicKey, p.AAGUID = bytes.Clone(p.ID), bytes.Clone(p.PublicKey), bytes.Clone(p.AAGUID)
	return p
}

// AddPasskey implements mfa.PasskeyStore.
func (s *Store) AddPasskey(ctx context.Context, p mfa.Passkey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.passkeys {
		if bytes.Equal(q.ID, p.ID) {
			return fmt.Errorf("memstore: add passkey: %w", mfa.ErrEnrolled)
		}
		if q.Subject == p.Subject {
			n++
		}
	}
	if n >= mfa.MaxPasskeys {
		return fmt.Errorf("memstore: add passkey: %w", mfa.ErrTooManyPasskeys)
	}
	s.passkeys = append(s.passkeys, clonePasskey(p))
	return nil
}

// Passkeys implements mfa.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, subject string) ([]mfa.Passkey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []mfa.Passkey{}
	for _, q := range s.passkeys {
		if q.Subject == subject {
			out = append(out, clonePasskey(q))
		}
	}
	return out, nil
}

// UsePasskey implements mfa.PasskeyStore.
func (s *Store) UsePasskey(ctx context.Context, subject string, id []byte, count uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.passkeys {
		if q.Subject == subject && bytes.Equal(q.ID, id) && (count > q.SignCount || count == 0 && q.SignCount == 0) {
			s.passkeys[i].SignCount = count
			return nil
		}
	}
	return fmt.Errorf("memstore: use passkey: %w", mfa.ErrReplayed)
}

// DeletePasskeys implements mfa.PasskeyStore.
func (s *Store) DeletePasskeys(ctx context.Context, subject string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.passkeys)
	s.passkeys = slices.DeleteFunc(s.passkeys, func(q mfa.Passkey) bool { return q.Subject == subject })
	return len(s.passkeys) < n, nil
}
