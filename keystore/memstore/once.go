package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/signet-id/signet/grant"
)

var _ grant.OnceClaimer = (*Store)(nil)

// ClaimOnce stores g, a one-time identifier, unless its id is taken by a
// grant other than an identifier expired at g.Created, which it replaces.
func (s *Store) ClaimOnce(ctx context.Context, g grant.Grant) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := grant.ValidateClaim(g); err != nil {
		return fmt.Errorf("memstore: claim once: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants == nil {
		s.grants = make(map[string]grant.Grant)
	}
	if old, ok := s.grants[g.ID]; ok && (old.Kind != grant.KindJTI || g.Created.Truncate(time.Microsecond).Before(old.Expires)) {
		return fmt.Errorf("memstore: claim once: %w", grant.ErrExists)
	}
	s.grants[g.ID] = cloneGrant(g)
	return nil
}
