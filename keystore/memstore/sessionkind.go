package memstore

import (
	"context"
	"time"

	"github.com/signet-id/signet/grant"
)

var _ grant.SessionKindRevoker = (*Store)(nil)

// RevokeSessionKind revokes the grants of kind of a login session.
func (s *Store) RevokeSessionKind(ctx context.Context, sessionID string, kind grant.Kind, now time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.revokeWhere(ctx, func(g grant.Grant) bool { return g.SessionID == sessionID && g.Kind == kind }, now)
}
