package grant

import (
	"context"
	"time"
)

// SessionKindRevoker is implemented by stores that can revoke the grants
// of one kind of a login session, such as the session itself when a
// relying party ends it by its sid (server-side logout), leaving the
// session's refresh tokens alone. Every store in this module implements
// it.
type SessionKindRevoker interface {
	// RevokeSessionKind revokes the unrevoked grants of kind whose
	// session is sessionID and returns how many it changed; an empty
	// sessionID matches nothing.
	RevokeSessionKind(ctx context.Context, sessionID string, kind Kind, now time.Time) (int, error)
}
