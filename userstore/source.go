package userstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/user"
)

// Source serves a Store as a user.Source and a user.Directory.
type Source struct {
	// Store keeps the users.
	Store Store
	// Policy gives the argon2id parameters of upgraded hashes (and of
	// the dummy an unknown username is checked against).
	Policy *Policy
	// Hashing bounds the memory of the hashes in flight (the server's
	// budget, server.Config.Hashing); nil means no bound.
	Hashing clientauth.Budget
	// Logger logs hash upgrades and their failures; nil discards.
	Logger *slog.Logger
	// Now is the clock of hash upgrades; nil means time.Now.
	Now func() time.Time
	// Dummy, when set and costlier than a hash with the policy's
	// parameters, is what an unknown or disabled username is checked
	// against (the configuration's costliest hash, in a user.Chain).
	Dummy *clientauth.Secret

	dummyOnce sync.Once
	dummy     *clientauth.Secret
	dummyErr  error
}

var (
	_ user.Source    = (*Source)(nil)
	_ user.Directory = (*Source)(nil)
)

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// unavailable wraps a store failure as user.ErrUnavailable.
func unavailable(err error) error { return fmt.Errorf("%w: %w", user.ErrUnavailable, err) }

// dummyHash is an argon2id secret with the policy's parameters that no
// password matches.
func (s *Source) dummyHash() (*clientauth.Secret, error) {
	s.dummyOnce.Do(func() {
		h, err := s.Policy.Hash("signet: no such user")
		if err != nil {
			s.dummyErr = err
			return
		}
		sec, err := clientauth.ParseSecret(h)
		if err != nil {
			s.dummyErr = err
			return
		}
		s.dummy, s.dummyErr = sec.Dummy(nil)
		if s.Dummy != nil && s.Dummy.Cost() > sec.Cost() {
			s.dummy = s.Dummy
		}
	})
	return s.dummy, s.dummyErr
}

// Authenticate checks username's password. An unknown or disabled user is
// checked against a dummy hash with the policy's parameters. After a
// successful check, a hash that is bcrypt or has other argon2id
// parameters than the policy's is replaced (a failure to is logged; the
// sign-in succeeds).
func (s *Source) Authenticate(ctx context.Context, username, password string) (string, error) {
	r, err := s.Store.UserByName(ctx, username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", unavailable(err)
	}
	if err != nil || r.Disabled {
		d, derr := s.dummyHash()
		if derr != nil {
			return "", unavailable(derr)
		}
		if _, err := clientauth.Check(ctx, s.Hashing, []*clientauth.Secret{d}, password); err != nil {
			return "", unavailable(err)
		}
		return "", user.ErrInvalidCredentials
	}
	ok, err := s.verify(ctx, r.PasswordHash, password)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", user.ErrInvalidCredentials
	}
	if !s.Policy.Current(r.PasswordHash) {
		s.upgrade(ctx, r, password)
	}
	return r.Subject, nil
}

// verify checks password against a stored hash under the hashing budget.
// A bcrypt check takes the budget's share of an argon2id one with the
// policy's memory, so that the budget also bounds how many run at once.
func (s *Source) verify(ctx context.Context, stored, password string) (bool, error) {
	h, err := parseHash(stored)
	if err != nil {
		return false, unavailable(fmt.Errorf("userstore: a stored password hash is invalid: %w", err))
	}
	if h.kind == hashArgon2id {
		ok, err := clientauth.Check(ctx, s.Hashing, []*clientauth.Secret{h.argon}, password)
		if err != nil {
			return false, unavailable(err)
		}
		return ok, nil
	}
	if s.Hashing != nil {
		release, err := s.Hashing.Acquire(ctx, uint64(s.Policy.argon().MemoryKiB))
		if err != nil {
			return false, unavailable(err)
		}
		defer release()
	}
	return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil, nil
}

// upgrade replaces r's hash by one with the policy's parameters.
func (s *Source) upgrade(ctx context.Context, r Record, password string) {
	if s.Hashing != nil {
		release, err := s.Hashing.Acquire(ctx, uint64(s.Policy.argon().MemoryKiB))
		if err != nil {
			s.log().Warn("password hash not upgraded: the hashing budget is full; it is upgraded at a later sign-in", "sub", r.Subject)
			return
		}
		defer release()
	}
	h, err := s.Policy.Hash(password)
	if err != nil {
		s.log().Error("password hash not upgraded", "sub", r.Subject, "error", err)
		return
	}
	switch err := s.Store.UpgradePassword(ctx, r.Subject, r.PasswordHash, h, s.now()); {
	case err == nil:
		s.log().Info("password hash upgraded to the configured argon2id parameters", "sub", r.Subject)
	case errors.Is(err, ErrChanged), errors.Is(err, ErrNotFound):
		// Set or deleted meanwhile: the newer state stays.
	default:
		s.log().Error("password hash not upgraded", "sub", r.Subject, "error", err)
	}
}

// Active reports whether subject is a stored user who is not disabled.
func (s *Source) Active(ctx context.Context, subject string) (bool, error) {
	r, err := s.Store.UserBySubject(ctx, subject)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	return !r.Disabled, nil
}

// Claims releases the user's claims by scope at userinfo
// (user.ReleaseAll), none in ID tokens (as the configuration's users),
// and the username as preferred_username on pages.
func (s *Source) Claims(ctx context.Context, req user.ClaimsRequest) (map[string]any, error) {
	if req.Caller != user.CallerUserinfo && req.Caller != user.CallerPage {
		return nil, nil
	}
	r, err := s.Store.UserBySubject(ctx, req.Subject)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if req.Caller == user.CallerPage {
		return map[string]any{"preferred_username": r.Username}, nil
	}
	return user.ReleaseAll(r.Claims, req.Scopes), nil
}

// HasUsername reports whether the store holds username.
func (s *Source) HasUsername(ctx context.Context, username string) (bool, error) {
	_, err := s.Store.UserByName(ctx, username)
	return found(err)
}

// HasSubject reports whether the store holds subject.
func (s *Source) HasSubject(ctx context.Context, subject string) (bool, error) {
	_, err := s.Store.UserBySubject(ctx, subject)
	return found(err)
}

func found(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, unavailable(err)
}

// HasUsers reports whether the store holds any user (user.Chain.HasUsers).
// A store with an AnyUsers method answers with one cheap query; otherwise
// the users are listed.
func (s *Source) HasUsers(ctx context.Context) (bool, error) {
	if a, ok := s.Store.(interface {
		AnyUsers(context.Context) (bool, error)
	}); ok {
		return a.AnyUsers(ctx)
	}
	us, err := s.Store.Users(ctx)
	return len(us) > 0, err
}
