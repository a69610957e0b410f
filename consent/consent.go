package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrNotFound: no consent is remembered for the user and client.
var ErrNotFound = errors.New("consent: not found")

// ErrInvalid: a Record a store was asked to save is not valid.
var ErrInvalid = errors.New("consent: invalid record")

// Record is a remembered consent: Subject let ClientID have Scopes at
// Granted.
type Record struct {
	Subject  string
	ClientID string
	// Scopes are sorted and unique (Normalize).
	Scopes  []string
	Granted time.Time
}

// Covers reports whether the record includes every scope of scopes.
func (r Record) Covers(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(r.Scopes, s) {
			return false
		}
	}
	return true
}

// Validate checks that r can be stored: a subject, a client and at least
// one scope, none with a space.
func (r Record) Validate() error {
	switch {
	case r.Subject == "":
		return fmt.Errorf("%w: no subject", ErrInvalid)
	case r.ClientID == "":
		return fmt.Errorf("%w: no client", ErrInvalid)
	case len(r.Scopes) == 0:
		return fmt.Errorf("%w: no scope", ErrInvalid)
	case r.Granted.IsZero():
		return fmt.Errorf("%w: no time", ErrInvalid)
	}
	for _, s := range r.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("%w: scope %q", ErrInvalid, s)
		}
	}
	return nil
}

// Normalize returns scopes sorted, without duplicates.
func Normalize(scopes []string) []string {
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out)
}

// JoinScopes and SplitScopes convert the stored form (space-separated).
func JoinScopes(scopes []string) string { return strings.Join(Normalize(scopes), " ") }

// SplitScopes is the inverse of JoinScopes.
func SplitScopes(s string) []string { return strings.Fields(s) }

// Store keeps remembered consent, one record per user and client.
type Store interface {
	// Consent returns the record of subject and clientID; ErrNotFound if
	// none.
	Consent(ctx context.Context, subject, clientID string) (Record, error)
	// SaveConsent stores r, replacing the record of its subject and
	// client. ErrInvalid if r fails Validate.
	SaveConsent(ctx context.Context, r Record) error
	// Consents lists the records of subject ("": of every user), by
	// subject then client.
	Consents(ctx context.Context, subject string) ([]Record, error)
	// RevokeConsent deletes the record of subject and clientID (""
	// means every client of subject) and returns how many it deleted.
	RevokeConsent(ctx context.Context, subject, clientID string) (int, error)
}

// ActivityStore keeps when each login session was last used, for the
// idle timeout (session.idleTimeout): a session unused for longer ends.
type ActivityStore interface {
	// TouchSession records that the login session id (its grant id) is
	// used at now, unless it was last used more than idle before now: it
	// then returns false and changes nothing (the session is idle; end
	// it). A session with no record yet is recorded and is not idle.
	// Concurrent calls of several processes sharing the store agree.
	TouchSession(ctx context.Context, id string, now time.Time, idle time.Duration) (bool, error)
	// ForgetSessions deletes the activity records last used before
	// before and returns how many it deleted (sessions that ended).
	ForgetSessions(ctx context.Context, before time.Time) (int, error)
}
