package user

import (
	"context"
	"errors"
	"fmt"
)

// Directory is implemented by a Source that can say, without checking a
// password, whether it holds a username or a subject: a list in memory, a
// database table. A Chain routes by it.
type Directory interface {
	// HasUsername reports whether the source holds username (active or
	// not).
	HasUsername(ctx context.Context, username string) (bool, error)
	// HasSubject reports whether the source holds subject (active or
	// not).
	HasSubject(ctx context.Context, subject string) (bool, error)
}

// Chain is a Source made of several: the configuration's users, the
// store's, a directory. A username and a subject belong to one of them,
// the owner, which answers for it:
//
//   - Authenticate asks the sources that are a Directory, in order, which
//     holds the username, and lets the first that does check the
//     password. When none does, the sources that are not a Directory are
//     tried in order. When nobody holds the name, the last Directory
//     source checks the password anyway (against its dummy hash), so an
//     unknown username costs what a wrong password costs.
//   - Active and Claims go to the first Directory source that holds the
//     subject; failing that, to the first other source that says the
//     subject is Active. A subject nobody holds is not active and has no
//     claims.
//
// So when two sources hold one username or subject, the earlier one wins:
// put the read-only sources (the configuration's users) first and refuse
// such duplicates where users are added.
type Chain []Source

var (
	_ Source    = Chain(nil)
	_ Directory = Chain(nil)
)

// Authenticate checks the password with the username's owner.
func (c Chain) Authenticate(ctx context.Context, username, password string) (string, error) {
	var last Source // the last Directory source
	for _, s := range c {
		d, ok := s.(Directory)
		if !ok {
			continue
		}
		last = s
		has, err := d.HasUsername(ctx, username)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		if has {
			return s.Authenticate(ctx, username, password)
		}
	}
	tried := false
	for _, s := range c {
		if _, ok := s.(Directory); ok {
			continue
		}
		tried = true
		sub, err := s.Authenticate(ctx, username, password)
		if err == nil {
			return sub, nil
		}
		if !errors.Is(err, ErrInvalidCredentials) {
			return "", err
		}
	}
	if !tried && last != nil {
		// Nobody holds the name: spend the work of a wrong password.
		if _, err := last.Authenticate(ctx, username, password); err != nil && !errors.Is(err, ErrInvalidCredentials) {
			return "", err
		}
	}
	return "", ErrInvalidCredentials
}

// owner returns the source that holds subject, and whether it was found
// by asking Active (then active is its answer).
func (c Chain) owner(ctx context.Context, subject string) (src Source, viaActive, active bool, err error) {
	for _, s := range c {
		if d, ok := s.(Directory); ok {
			has, err := d.HasSubject(ctx, subject)
			if err != nil {
				return nil, false, false, err
			}
			if has {
				return s, false, false, nil
			}
		}
	}
	for _, s := range c {
		if _, ok := s.(Directory); ok {
			continue
		}
		a, err := s.Active(ctx, subject)
		if err != nil {
			return nil, false, false, err
		}
		if a {
			return s, true, true, nil
		}
	}
	return nil, false, false, nil
}

// Active asks the subject's owner.
func (c Chain) Active(ctx context.Context, subject string) (bool, error) {
	s, viaActive, active, err := c.owner(ctx, subject)
	switch {
	case err != nil, s == nil:
		return false, err
	case viaActive:
		return active, nil
	}
	return s.Active(ctx, subject)
}

// Claims asks the subject's owner.
func (c Chain) Claims(ctx context.Context, req ClaimsRequest) (map[string]any, error) {
	s, _, _, err := c.owner(ctx, req.Subject)
	if err != nil || s == nil {
		return nil, err
	}
	return s.Claims(ctx, req)
}

// HasUsername reports whether a Directory source holds username.
func (c Chain) HasUsername(ctx context.Context, username string) (bool, error) {
	for _, s := range c {
		if d, ok := s.(Directory); ok {
			if has, err := d.HasUsername(ctx, username); has || err != nil {
				return has, err
			}
		}
	}
	return false, nil
}

// HasSubject reports whether a Directory source holds subject.
func (c Chain) HasSubject(ctx context.Context, subject string) (bool, error) {
	for _, s := range c {
		if d, ok := s.(Directory); ok {
			if has, err := d.HasSubject(ctx, subject); has || err != nil {
				return has, err
			}
		}
	}
	return false, nil
}

// HasUsers reports whether any source of the chain may have users: a
// source with a HasUsers method answers for itself; a source without one
// is assumed to have users. The login page shows the username and
// password form beside connectors only when this is true.
func (c Chain) HasUsers(ctx context.Context) (bool, error) {
	for _, s := range c {
		h, ok := s.(interface {
			HasUsers(context.Context) (bool, error)
		})
		if !ok {
			return true, nil
		}
		if has, err := h.HasUsers(ctx); has || err != nil {
			return has, err
		}
	}
	return false, nil
}
