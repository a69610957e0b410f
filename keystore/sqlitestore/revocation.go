package sqlitestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/signet-id/signet/grant"
)

var _ grant.RevocationReader = (*Store)(nil)

// hasRevocationSQL finds a revocation record among the grants only: the
// one-time identifiers' table holds none (its rows are always KindJTI).
const hasRevocationSQL = `SELECT 1 FROM grants WHERE id = ? AND kind = 'revocation'`

// HasRevocation reports whether a KindRevocation grant with id is stored:
// one read of the grants table, where Grant may make two.
//
// A context already done is refused; the read itself then runs without
// ctx's cancellation. For a cancellable context the driver starts a
// goroutine per statement to interrupt it, which cost as much as this
// read (BenchmarkRevocationRead: 38,768 instructions per read with it,
// 19,187 without), and the read gains nothing from it: one primary-key
// lookup that never waits for a writer (WAL), its only wait, for a lock,
// bounded by the busy timeout as every statement's is.
func (s *Store) HasRevocation(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sqlitestore: has revocation: %w", err)
	}
	// Whether a row comes is the answer: nothing to scan.
	rows, err := s.query(context.WithoutCancel(ctx), hasRevocationSQL, id)
	if err != nil {
		return false, s.wrap(ctx, "has revocation", err)
	}
	found := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, s.wrap(ctx, "has revocation", err)
	}
	return found, nil
}
