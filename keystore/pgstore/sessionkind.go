package pgstore

import (
	"context"
	"time"

	"github.com/signet-id/signet/grant"
)

var _ grant.SessionKindRevoker = (*Store)(nil)

// RevokeSessionKind revokes the unrevoked grants of kind of a login
// session and returns how many it changed (through the grants_session
// index).
func (s *Store) RevokeSessionKind(ctx context.Context, sessionID string, kind grant.Kind, now time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.grantExec(ctx, "revoke session grants", `UPDATE grants SET revoked = $2 WHERE session_id = $1 AND kind = $3 AND revoked IS NULL`,
		sessionID, storedTime(now), string(kind))
}
