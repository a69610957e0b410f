package pgstore

import (
	"context"
	"fmt"

	"github.com/signet-id/signet/grant"
)

var _ grant.OnceClaimer = (*Store)(nil)

// ClaimOnce stores g, a one-time identifier, unless its id is taken by a
// grant other than an identifier expired at g.Created, which the same
// statement replaces. INSERT ... ON CONFLICT is atomic: of concurrent
// claims of one id, from any instance, one inserts and the others see its
// row, unexpired, and change nothing.
func (s *Store) ClaimOnce(ctx context.Context, g grant.Grant) error {
	const op = "claim once"
	if err := grant.ValidateClaim(g); err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	n, err := s.grantExec(ctx, op, `INSERT INTO grants (`+grantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, client_id = EXCLUDED.client_id, subject = EXCLUDED.subject,
			family_id = EXCLUDED.family_id, session_id = EXCLUDED.session_id, data = EXCLUDED.data,
			created = EXCLUDED.created, expires = EXCLUDED.expires, consumed = NULL, revoked = NULL
		WHERE grants.kind = 'jti' AND grants.expires <= EXCLUDED.created`, grantArgs(g)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("pgstore: %s: %w", op, grant.ErrExists)
	}
	return nil
}
