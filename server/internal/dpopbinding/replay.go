package dpopbinding

import (
	"context"
	"errors"
	"time"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/grant"
)

// StoreReplay records proof ids in the grant store, so that every
// instance sharing it refuses a proof used at another: one row per
// accepted proof, unique by id, until the proof expires (the grant
// cleaner deletes it afterwards).
//
// The row is a revocation grant (a spent identifier) under the hash of
// "dpop:" and the proof's id, which no access token's revocation id can
// equal.
type StoreReplay struct {
	Store grant.Store
	Now   func() time.Time
}

// UseOnce implements dpop.Replay.
func (s StoreReplay) UseOnce(ctx context.Context, id string, exp time.Time) error {
	now := s.Now()
	if !exp.After(now) {
		return dpop.ErrIssuedAt // expired since it was verified
	}
	err := s.Store.CreateGrant(ctx, grant.Grant{ID: grant.HashHandle("dpop:" + id), Kind: grant.KindRevocation, Created: now, Expires: exp})
	if errors.Is(err, grant.ErrExists) {
		return dpop.ErrReplayed
	}
	return err
}
