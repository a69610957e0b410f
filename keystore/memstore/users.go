package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/userstore"
)

// The users of signet users (package userstore) live beside the grants,
// under the same lock: disabling a user revokes their grants at once.

var _ userstore.Store = (*Store)(nil)

// copyRecord returns r with its own claims map (callers may change theirs).
func copyRecord(r userstore.Record) userstore.Record {
	r.Claims = maps.Clone(r.Claims)
	return r
}

// byName returns the subject of username; "" if none. s.mu is held.
func (s *Store) byName(username string) string {
	for sub, r := range s.users {
		if r.Username == username {
			return sub
		}
	}
	return ""
}

// CreateUser stores r.
func (s *Store) CreateUser(ctx context.Context, r userstore.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memstore: create user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, taken := s.users[r.Subject]; taken || s.byName(r.Username) != "" {
		return fmt.Errorf("memstore: create user %q: %w", r.Username, userstore.ErrExists)
	}
	if s.users == nil {
		s.users = make(map[string]userstore.Record)
	}
	s.users[r.Subject] = copyRecord(r)
	return nil
}

// UserByName returns the user username.
func (s *Store) UserByName(ctx context.Context, username string) (userstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return userstore.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.byName(username); sub != "" {
		return copyRecord(s.users[sub]), nil
	}
	return userstore.Record{}, fmt.Errorf("memstore: user %q: %w", username, userstore.ErrNotFound)
}

// UserBySubject returns the user subject.
func (s *Store) UserBySubject(ctx context.Context, subject string) (userstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return userstore.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[subject]
	if !ok {
		return userstore.Record{}, fmt.Errorf("memstore: user with subject %q: %w", subject, userstore.ErrNotFound)
	}
	return copyRecord(r), nil
}

// Users returns every user by username.
func (s *Store) Users(ctx context.Context) ([]userstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]userstore.Record, 0, len(s.users))
	for _, r := range s.users {
		out = append(out, copyRecord(r))
	}
	slices.SortFunc(out, func(a, b userstore.Record) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// UpdateUser replaces the user r.Subject.
func (s *Store) UpdateUser(ctx context.Context, r userstore.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memstore: update user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[r.Subject]
	if !ok {
		return fmt.Errorf("memstore: update user %q: %w", r.Subject, userstore.ErrNotFound)
	}
	if sub := s.byName(r.Username); sub != "" && sub != r.Subject {
		return fmt.Errorf("memstore: update user: username %q: %w", r.Username, userstore.ErrExists)
	}
	r.Created = old.Created
	s.users[r.Subject] = copyRecord(r)
	if r.Disabled && !old.Disabled {
		s.revokeSubject(r.Subject, r.Updated)
	}
	return nil
}

// UpgradePassword replaces the hash old by new.
func (s *Store) UpgradePassword(ctx context.Context, subject, old, new string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[subject]
	switch {
	case !ok:
		return fmt.Errorf("memstore: upgrade password: %w", userstore.ErrNotFound)
	case r.PasswordHash != old:
		return fmt.Errorf("memstore: upgrade password: %w", userstore.ErrChanged)
	}
	r.PasswordHash, r.Updated = new, now
	s.users[subject] = r
	return nil
}

// DisableUser disables the user and revokes their grants.
func (s *Store) DisableUser(ctx context.Context, subject string, now time.Time) (int, error) {
	return s.setDisabled(ctx, subject, true, now)
}

// EnableUser enables the user.
func (s *Store) EnableUser(ctx context.Context, subject string, now time.Time) error {
	_, err := s.setDisabled(ctx, subject, false, now)
	return err
}

func (s *Store) setDisabled(ctx context.Context, subject string, disabled bool, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[subject]
	if !ok {
		return 0, fmt.Errorf("memstore: user with subject %q: %w", subject, userstore.ErrNotFound)
	}
	r.Disabled, r.Updated = disabled, now
	s.users[subject] = r
	if !disabled {
		return 0, nil
	}
	return s.revokeSubject(subject, now), nil
}

// DeleteUser deletes the user and revokes their grants.
func (s *Store) DeleteUser(ctx context.Context, subject string, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[subject]; !ok {
		return 0, fmt.Errorf("memstore: user with subject %q: %w", subject, userstore.ErrNotFound)
	}
	delete(s.users, subject)
	return s.revokeSubject(subject, now), nil
}

// revokeSubject revokes subject's sessions, refresh tokens and codes.
// s.mu is held.
func (s *Store) revokeSubject(subject string, now time.Time) int {
	n := 0
	for id, g := range s.grants {
		if g.Subject == subject && g.Revoked.IsZero() && slices.Contains(userstore.RevokedKinds, string(g.Kind)) {
			g.Revoked = now
			s.grants[id] = g
			n++
		}
	}
	return n
}

// AnyUsers reports whether the store holds any user.
func (s *Store) AnyUsers(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users) > 0, nil
}
