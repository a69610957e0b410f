// Package grant defines what the login flows persist: authorization codes,
// refresh tokens, login sessions and revoked access tokens, and the
// [Store] that keeps them. Backends (memstore, sqlitestore, pgstore)
// implement it beside keystore.Store, so grants live in the same store as
// the keys; package granttest is the conformance suite.
//
// A grant is stored under the hash of the handle given to the client
// ([HashHandle]), never the handle itself, so a read of the database does
// not yield usable codes or refresh tokens.
package grant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindAuthorizationCode, KindRefreshToken, KindSession, KindRevocation:
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
	// DeleteExpired deletes grants that expired before t.
	DeleteExpired(ctx context.Context, t time.Time) (int, error)
}
