package dpopbinding

import (
	"context"
	"errors"
	"time"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/grant"
)

// StoreReplay records proof ids in the grant store as one-time
// identifiers (grant.UseOnce, namespace grant.OnceDPoPProof), so that
// every instance sharing the store refuses a proof used at another: one
// row per accepted proof, until the proof expires (the grant cleaner
// deletes it afterwards).
type StoreReplay struct {
	cache *grant.ReplayCache
}

// NewStoreReplay returns a StoreReplay over s on clock now.
func NewStoreReplay(s grant.Store, now func() time.Time) StoreReplay {
	return StoreReplay{cache: grant.NewReplayCache(s, grant.OnceDPoPProof, now)}
}

// UseOnce implements dpop.Replay: grant.ErrReplayed is dpop.ErrReplayed,
// and a proof that expired since it was verified is dpop.ErrIssuedAt.
func (s StoreReplay) UseOnce(ctx context.Context, id string, exp time.Time) error {
	err := s.cache.UseOnce(ctx, id, exp)
	switch {
	case errors.Is(err, grant.ErrReplayed):
		return dpop.ErrReplayed
	case errors.Is(err, grant.ErrExpired):
		return dpop.ErrIssuedAt
	}
	return err
}
