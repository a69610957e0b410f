package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/signet-id/signet/mfa"
)

var _ mfa.Store = (*Store)(nil)

// mfaState is the second factors: per subject, a TOTP record and the
// hashes of its unused recovery codes. Guarded by Store.mu.
type mfaState struct {
	totp     map[string]mfa.TOTP
	recovery map[string][][]byte
}

func (m *mfaState) init() {
	if m.totp == nil {
		m.totp = make(map[string]mfa.TOTP)
		m.recovery = make(map[string][][]byte)
	}
}

func cloneTOTP(t mfa.TOTP) mfa.TOTP {
	t.Secret = bytes.Clone(t.Secret)
	t.Created, t.Confirmed = t.Created.Truncate(time.Microsecond), t.Confirmed.Truncate(time.Microsecond)
	return t
}

// TOTP implements mfa.Store.
func (s *Store) TOTP(ctx context.Context, subject string) (mfa.TOTP, error) {
	if err := ctx.Err(); err != nil {
		return mfa.TOTP{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.mfa.totp[subject]
	if !ok {
		return mfa.TOTP{}, fmt.Errorf("memstore: totp: %w", mfa.ErrNotFound)
	}
	return cloneTOTP(t), nil
}

// BeginTOTP implements mfa.Store.
func (s *Store) BeginTOTP(ctx context.Context, t mfa.TOTP) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mfa.init()
	if old, ok := s.mfa.totp[t.Subject]; ok && !old.Confirmed.IsZero() {
		return fmt.Errorf("memstore: begin totp: %w", mfa.ErrEnrolled)
	}
	t.Confirmed, t.LastStep = time.Time{}, 0
	s.mfa.totp[t.Subject] = cloneTOTP(t)
	return nil
}

// ConfirmTOTP implements mfa.Store.
func (s *Store) ConfirmTOTP(ctx context.Context, subject string, secret []byte, step int64, recovery [][]byte, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.mfa.totp[subject]
	if !ok || !t.Confirmed.IsZero() || !bytes.Equal(t.Secret, secret) {
		return fmt.Errorf("memstore: confirm totp: %w", mfa.ErrNotFound)
	}
	t.Confirmed, t.LastStep = now.Truncate(time.Microsecond), step
	s.mfa.totp[subject] = t
	codes := make([][]byte, len(recovery))
	for i, h := range recovery {
		codes[i] = bytes.Clone(h)
	}
	s.mfa.recovery[subject] = codes
	return nil
}

// UseTOTPStep implements mfa.Store.
func (s *Store) UseTOTPStep(ctx context.Context, subject string, step int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.mfa.totp[subject]
	switch {
	case !ok || t.Confirmed.IsZero():
		return fmt.Errorf("memstore: use totp step: %w", mfa.ErrNotFound)
	case step <= t.LastStep:
		return fmt.Errorf("memstore: use totp step: %w", mfa.ErrReplayed)
	}
	t.LastStep = step
	s.mfa.totp[subject] = t
	return nil
}

// UseRecoveryCode implements mfa.Store.
func (s *Store) UseRecoveryCode(ctx context.Context, subject string, hash []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := s.mfa.recovery[subject]
	i := slices.IndexFunc(codes, func(h []byte) bool { return bytes.Equal(h, hash) })
	if i < 0 {
		return fmt.Errorf("memstore: use recovery code: %w", mfa.ErrNotFound)
	}
	s.mfa.recovery[subject] = slices.Delete(codes, i, i+1)
	return nil
}

// RecoveryCodesLeft implements mfa.Store.
func (s *Store) RecoveryCodesLeft(ctx context.Context, subject string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mfa.recovery[subject]), nil
}

// DeleteMFA implements mfa.Store.
func (s *Store) DeleteMFA(ctx context.Context, subject string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, had := s.mfa.totp[subject]
	had = had || len(s.mfa.recovery[subject]) > 0
	delete(s.mfa.totp, subject)
	delete(s.mfa.recovery, subject)
	return had, nil
}

// ListTOTP implements mfa.Store.
func (s *Store) ListTOTP(ctx context.Context) ([]mfa.TOTP, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]mfa.TOTP, 0, len(s.mfa.totp))
	for _, t := range s.mfa.totp {
		out = append(out, cloneTOTP(t))
	}
	return out, nil
}

// ResealTOTP implements mfa.Store.
func (s *Store) ResealTOTP(ctx context.Context, subject string, old, sealed []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.mfa.totp[subject]
	if !ok || !bytes.Equal(t.Secret, old) {
		return fmt.Errorf("memstore: reseal totp: %w", mfa.ErrNotFound)
	}
	t.Secret = bytes.Clone(sealed)
	s.mfa.totp[subject] = t
	return nil
}
