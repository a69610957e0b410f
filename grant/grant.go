package grant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Kind is what a grant is.
type Kind string

// Kinds.
const (
	KindAuthorizationCode Kind = "authorization_code"
	KindRefreshToken      Kind = "refresh_token"
	KindSession           Kind = "session"
	KindRevocation        Kind = "revocation" // a revoked access token, by jti
	// KindJTI is a used one-time identifier (the jti of a client
	// assertion, DPoP proof or request object), stored by [UseOnce] under
	// [OnceID] until the identifier's token expires.
	KindJTI Kind = "jti"
	// KindPushedRequest is a pushed authorization request (RFC 9126),
	// stored under the hash of its request_uri until it expires; Data is
	// the request's JSON. It is used once, by ConsumeGrant.
	KindPushedRequest Kind = "pushed_authorization_request"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindAuthorizationCode, KindRefreshToken, KindSession, KindRevocation, KindJTI, KindPushedRequest:
		return true
	}
	return false
}

// Sentinel errors.
var (
	ErrNotFound = errors.New("grant: not found")
	ErrExists   = errors.New("grant: already exists")
	// ErrConsumed: a single-use grant was used before (a replay). The
	// grant is returned with it so the caller can revoke what it issued.
	ErrConsumed = errors.New("grant: already used")
	ErrRevoked  = errors.New("grant: revoked")
	ErrExpired  = errors.New("grant: expired")
	ErrInvalid  = errors.New("grant: invalid grant record")
	// ErrNoSession: an authorization code was refused because its login
	// session is unknown, revoked or expired (it ended meanwhile).
	ErrNoSession = errors.New("grant: the login session has ended")
	// ErrReplayed: a one-time identifier was used before and has not
	// expired (see [UseOnce]).
	ErrReplayed = errors.New("grant: one-time identifier used before")
)

// Grant is one stored grant.
type Grant struct {
	ID        string // HashHandle of the handle given out
	Kind      Kind
	ClientID  string
	Subject   string
	FamilyID  string // refresh-token family; "" if none
	SessionID string // login session; "" if none
	Data      []byte // the flow's own payload (JSON)
	Created   time.Time
	Expires   time.Time
	Consumed  time.Time // zero until used (single-use grants)
	Revoked   time.Time // zero unless revoked
}

// Validate checks the fields every store requires.
func (g *Grant) Validate() error {
	switch {
	case g.ID == "":
		return errors.Join(ErrInvalid, errors.New("grant: id is empty"))
	case !g.Kind.Valid():
		return errors.Join(ErrInvalid, errors.New("grant: unknown kind "+string(g.Kind)))
	case g.Created.IsZero() || g.Expires.IsZero():
		return errors.Join(ErrInvalid, errors.New("grant: created and expires are required"))
	case g.Expires.Before(g.Created):
		return errors.Join(ErrInvalid, errors.New("grant: expires before created"))
	}
	return nil
}

// ValidateCode checks what [Store.CreateCode] requires besides Validate:
// an authorization code of a login session, and keep at least 1.
func (g *Grant) ValidateCode(keep int) error {
	if err := g.Validate(); err != nil {
		return err
	}
	switch {
	case g.Kind != KindAuthorizationCode:
		return errors.Join(ErrInvalid, errors.New("grant: CreateCode stores authorization codes, not "+string(g.Kind)))
	case g.SessionID == "":
		return errors.Join(ErrInvalid, errors.New("grant: an authorization code needs its login session"))
	case keep < 1:
		return errors.Join(ErrInvalid, errors.New("grant: a session must keep at least one code"))
	}
	return nil
}

// ConsumeRefusal reports why g cannot be consumed at now: ErrRevoked,
// then ErrConsumed, then ErrExpired (expired when now is not before
// Expires), or nil. Every store applies it, at its own precision: now is
// compared in whole microseconds, the precision of the SQL stores, so a
// grant is consumable exactly as long in every store.
func (g *Grant) ConsumeRefusal(now time.Time) error {
	switch {
	case !g.Revoked.IsZero():
		return ErrRevoked
	case !g.Consumed.IsZero():
		return ErrConsumed
	case !now.Truncate(time.Microsecond).Before(g.Expires):
		return ErrExpired
	}
	return nil
}

// NewestFirst orders grants by Created, newest first, then by ID
// descending: the order in which CreateCode keeps a session's codes.
func NewestFirst(a, b Grant) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return strings.Compare(b.ID, a.ID)
}

// HashHandle returns the storage id of a handle: hex SHA-256. Handles are
// high-entropy random values, so a fast hash is enough.
func HashHandle(handle string) string {
	sum := sha256.Sum256([]byte(handle))
	return hex.EncodeToString(sum[:])
}

// Store keeps grants. It is safe for concurrent use by many processes
// sharing the same backing storage; ConsumeGrant is atomic across them.
type Store interface {
	// CreateGrant stores g; ErrExists if its id is taken.
	CreateGrant(ctx context.Context, g Grant) error
	// Grant returns a grant by id; ErrNotFound if none.
	Grant(ctx context.Context, id string) (Grant, error)
	// ConsumeGrant marks a grant used at now, once. It returns the grant
	// as it was, with ErrConsumed if it was used before (a replay),
	// ErrRevoked if revoked, ErrExpired if expired at now, ErrNotFound.
	ConsumeGrant(ctx context.Context, id string, now time.Time) (Grant, error)
	// RevokeGrant marks one grant revoked; ErrNotFound if none.
	RevokeGrant(ctx context.Context, id string, now time.Time) error
	// RevokeFamily revokes every grant of a refresh-token family and
	// returns how many it changed.
	RevokeFamily(ctx context.Context, familyID string, now time.Time) (int, error)
	// RevokeSession revokes every grant of a login session.
	RevokeSession(ctx context.Context, sessionID string, now time.Time) (int, error)
	// CreateCode stores g, an authorization code of the login session
	// g.SessionID, then deletes that session's oldest unredeemed
	// (unconsumed) codes beyond the newest keep, by Created then ID, and
	// returns how many it deleted. Calls for one session, from any
	// process sharing the store, are serialized with each other and with
	// DeleteSessionCodes, so a session never holds more than keep
	// unredeemed codes. The session must be live at g.Created (a
	// KindSession grant with that SessionID, unrevoked and unexpired):
	// otherwise nothing is stored and the error is ErrNoSession. ErrExists
	// if g's id is taken; ErrInvalid if g fails ValidateCode.
	CreateCode(ctx context.Context, g Grant, keep int) (int, error)
	// DeleteSessionCodes deletes every unredeemed authorization code of a
	// login session and returns how many: the session ended, so the codes
	// it issued must not be redeemed. Redeemed codes stay for replay
	// detection. An empty sessionID matches nothing.
	DeleteSessionCodes(ctx context.Context, sessionID string) (int, error)
	// DeleteExpired deletes grants that expired before t, in
	// transactions of at most CleanBatch rows each, so that a large
	// backlog never holds the store's writers for long.
	DeleteExpired(ctx context.Context, t time.Time) (int, error)
	// Rotate consumes the grant id at now as ConsumeGrant does and, in the
	// same transaction, stores next (a refresh token) and deletes the
	// refresh tokens of next's family that were consumed before, other
	// than id: a family keeps its current token and the one just rotated,
	// which the reuse interval needs. On any refusal nothing changes: the
	// errors are ConsumeGrant's, ErrExists if next's id is taken, and
	// ErrInvalid if next is not a refresh token of a family.
	Rotate(ctx context.Context, id string, now time.Time, next Grant) (Grant, error)
	// FamilyGrants returns the grants of a refresh-token family (its
	// code and its refresh tokens: a few, Rotate keeps it small); none if
	// the family is unknown. An empty familyID matches nothing.
	FamilyGrants(ctx context.Context, familyID string) ([]Grant, error)
	// StartSession stores the login session sess and its first
	// authorization code in one transaction, after ending the browser's
	// previous session end when end.ID is not "": its grant is revoked and
	// the unredeemed codes of end.SessionID deleted, serialized with
	// CreateCode as DeleteSessionCodes is (an unknown end is no error).
	// ErrExists if an id is taken; ErrInvalid if sess is not a session or
	// code is not a code of it.
	StartSession(ctx context.Context, end, sess, code Grant) error
}

// CleanBatch is the most rows DeleteExpired deletes in one transaction.
const CleanBatch = 500

// ValidateClaim checks what [OnceClaimer.ClaimOnce] requires of g.
func ValidateClaim(g Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.Kind != KindJTI {
		return errors.Join(ErrInvalid, errors.New("grant: ClaimOnce stores one-time identifiers (kind jti), not "+string(g.Kind)))
	}
	if g.ClientID != "" || g.Subject != "" || g.FamilyID != "" || g.SessionID != "" || len(g.Data) > 0 || !g.Consumed.IsZero() || !g.Revoked.IsZero() {
		return errors.Join(ErrInvalid, errors.New("grant: ClaimOnce stores a one-time identifier's id, created and expires only: leave its other fields empty (UseOnce does)"))
	}
	return nil
}

// ValidateRotation checks what [Store.Rotate] requires of next.
func ValidateRotation(next Grant) error {
	if err := next.Validate(); err != nil {
		return err
	}
	if next.Kind != KindRefreshToken || next.FamilyID == "" {
		return errors.Join(ErrInvalid, errors.New("grant: Rotate stores a refresh token of a family"))
	}
	return nil
}

// ValidateSessionStart checks what [Store.StartSession] requires.
func ValidateSessionStart(sess, code Grant) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	if err := code.ValidateCode(1); err != nil {
		return err
	}
	if sess.Kind != KindSession || sess.SessionID == "" || code.SessionID != sess.SessionID {
		return errors.Join(ErrInvalid, errors.New("grant: StartSession stores a session and a code of that session"))
	}
	if code.Created.Before(sess.Created) || !code.Created.Before(sess.Expires) {
		return errors.Join(ErrInvalid, errors.New("grant: the code must be created while its session is live"))
	}
	return nil
}
