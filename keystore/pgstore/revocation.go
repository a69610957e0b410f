package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/grant"
)

var _ grant.RevocationReader = (*Store)(nil)

// HasRevocation reports whether a KindRevocation grant with id is stored:
// one statement on the grants table (one round trip), where Grant makes
// two when the grants lack the id, the common case of an unrevoked token:
// the one-time identifiers' table holds no revocation record.
func (s *Store) HasRevocation(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("pgstore: has revocation: %w", err)
	}
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM grants WHERE id = $1 AND kind = 'revocation'`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap(ctx, "has revocation", err)
	}
	return true, nil
}
