package pgstore

import (
	"context"
	"fmt"

	"github.com/signet-id/signet/grant"
)

var _ grant.RevocationReader = (*Store)(nil)

// HasRevocation reports whether a KindRevocation grant with id is stored:
// a statement on the grants table only, where Grant makes two when the
// grants lack the id, the common case of an unrevoked token: the one-time
// identifiers' table holds no revocation record.
//
// Concurrent calls on one Store share statements (revocationreads.go):
// the calls that arrive while one statement is in flight are sent
// together as the next, one round trip and one backend woken for all of
// them instead of one each. Every call is still answered by a statement
// sent after it was made, never by one already in flight, so a revocation
// committed at any instance before the call holds for it: a revoked token
// fails its next introspection, as when each call read alone.
//
// A caller whose ctx ends gets ctx's error at once; the others of its
// batch get their answers. An error of the statement fails its batch's
// calls only. After Close, calls get an error.
func (s *Store) HasRevocation(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("pgstore: %s: %w", opHasRevocation, err)
	}
	return s.revocations.read(ctx, s, id)
}

const opHasRevocation = "has revocation"
