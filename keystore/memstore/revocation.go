package memstore

import (
	"context"

	"github.com/signet-id/signet/grant"
)

var _ grant.RevocationReader = (*Store)(nil)

// HasRevocation reports whether a KindRevocation grant with id is stored.
func (s *Store) HasRevocation(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	return ok && g.Kind == grant.KindRevocation, nil
}
