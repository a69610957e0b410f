package userstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signet-id/signet/user"
)

// Errors of a Store. Implementations wrap them with %w.
var (
	// ErrNotFound: no user has that username or subject.
	ErrNotFound = errors.New("userstore: no such user")
	// ErrExists: the username or subject is taken.
	ErrExists = errors.New("userstore: a user with that username or subject exists")
	// ErrInvalid: a record fails Validate.
	ErrInvalid = errors.New("userstore: invalid user")
	// ErrChanged: the password hash changed since it was read (UpgradePassword).
	ErrChanged = errors.New("userstore: the user's password changed meanwhile")
)

// Record is a stored user.
type Record struct {
	// Subject is the stable sub of the tokens.
	Subject string
	// Username is what the person types to sign in.
	Username string
	// PasswordHash is a PHC string: argon2id ($argon2id$v=19$...), or
	// bcrypt ($2a$, $2b$, $2y$) as imported.
	PasswordHash string
	// Claims are released by scope (user.ReleaseAll); user.CheckClaims
	// holds for them.
	Claims map[string]any
	// Disabled users cannot sign in, and what they hold is refused.
	Disabled bool
	// Created and Updated are set by the caller.
	Created, Updated time.Time
}

// Validate checks r: a subject and a username of printable characters
// (at most 255 and 256), a hash of a supported kind, valid claims.
func (r Record) Validate() error {
	switch {
	case !validSubject(r.Subject):
		return fmt.Errorf("%w: the subject must be 1 to 255 printable ASCII characters, e.g. a UUID", ErrInvalid)
	case r.Username == "" || strings.TrimSpace(r.Username) != r.Username || len(r.Username) > 256 ||
		strings.ContainsFunc(r.Username, func(c rune) bool { return c < ' ' || c == 0x7f }):
		return fmt.Errorf("%w: the username must be 1 to 256 characters without control characters or leading or trailing spaces", ErrInvalid)
	case r.PasswordHash == "":
		return fmt.Errorf("%w: user %q has no password hash", ErrInvalid, r.Username)
	}
	if _, err := parseHash(r.PasswordHash); err != nil {
		return fmt.Errorf("%w: user %q: %w", ErrInvalid, r.Username, err)
	}
	if err := user.CheckClaims(r.Claims); err != nil {
		return fmt.Errorf("%w: user %q: %w", ErrInvalid, r.Username, err)
	}
	return nil
}

func validSubject(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Store keeps users. Implementations must be safe for concurrent use and
// answer from the shared database every time (no cache): what one
// instance changes, the others see at their next call.
type Store interface {
	// CreateUser stores r; ErrExists when its username or subject is
	// taken, ErrInvalid when it fails Validate.
	CreateUser(ctx context.Context, r Record) error
	// UserByName returns the user username; ErrNotFound if none.
	UserByName(ctx context.Context, username string) (Record, error)
	// UserBySubject returns the user subject; ErrNotFound if none.
	UserBySubject(ctx context.Context, subject string) (Record, error)
	// Users returns every user, ordered by username.
	Users(ctx context.Context) ([]Record, error)
	// UpdateUser replaces the user r.Subject's username, password hash,
	// claims, Disabled and Updated (Created stays). ErrNotFound if none;
	// ErrExists when the new username is another user's. Setting
	// Disabled revokes the user's grants as DisableUser does.
	UpdateUser(ctx context.Context, r Record) error
	// UpgradePassword replaces the user's hash old by new: ErrChanged when
	// the stored hash is not old any more (set meanwhile), ErrNotFound if
	// no such user.
	UpgradePassword(ctx context.Context, subject, old, new string, now time.Time) error
	// DisableUser disables the user and, in the same transaction, revokes
	// their login sessions, refresh tokens and unredeemed authorization
	// codes at now; it returns how many grants it revoked. ErrNotFound if
	// none.
	DisableUser(ctx context.Context, subject string, now time.Time) (int, error)
	// EnableUser enables the user; ErrNotFound if none.
	EnableUser(ctx context.Context, subject string, now time.Time) error
	// DeleteUser deletes the user and revokes their grants as DisableUser
	// does; ErrNotFound if none.
	DeleteUser(ctx context.Context, subject string, now time.Time) (int, error)
}

// RevokedKinds are the grant kinds DisableUser and DeleteUser revoke.
var RevokedKinds = []string{"session", "refresh_token", "authorization_code"}
