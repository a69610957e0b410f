package sqlitestore

import (
	"context"
	"time"

	"github.com/signet-id/signet/grant"
)

var _ grant.SessionKindRevoker = (*Store)(nil)

// RevokeSessionKind revokes the unrevoked grants of kind of a login
// session and returns how many it changed.
func (s *Store) RevokeSessionKind(ctx context.Context, sessionID string, kind grant.Kind, now time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.grantExec(ctx, "revoke session grants", `UPDATE grants SET revoked_us = ? WHERE session_id = ? AND kind = ? AND revoked_us IS NULL`,
		micros(now), sessionID, string(kind))
}
