package sqlitestore

import (
	"context"
	"database/sql"
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
func (s *Store) HasRevocation(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sqlitestore: has revocation: %w", err)
	}
	var one int
	err := s.queryRow(ctx, hasRevocationSQL, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap(ctx, "has revocation", err)
	}
	return true, nil
}
