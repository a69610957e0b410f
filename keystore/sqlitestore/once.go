package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signet-id/signet/grant"
)

var _ grant.OnceClaimer = (*Store)(nil)

// ClaimOnce stores g, a one-time identifier, unless its id is taken by a
// grant other than an identifier expired at g.Created, which the same
// statement replaces. Writes are serialized, so concurrent claims of one
// id succeed once; concurrent claims share one transaction and one fsync
// (the group commit of tx), without a savepoint each, since a claim is
// one statement.
func (s *Store) ClaimOnce(ctx context.Context, g grant.Grant) error {
	if err := grant.ValidateClaim(g); err != nil {
		return fmt.Errorf("sqlitestore: claim once: %w", err)
	}
	return s.txStatement(ctx, "claim once", func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.claim).ExecContext(ctx,
			g.ID, string(g.Kind), g.ClientID, g.Subject, nullText(g.FamilyID), nullText(g.SessionID), dataArg(g.Data),
			micros(g.Created), micros(g.Expires), nullMicros(g.Consumed), nullMicros(g.Revoked))
		if err != nil {
			return err
		}
		return affected(res, grant.ErrExists)
	})
}

// claimSQL inserts a one-time identifier or replaces one expired at its
// created time.
const claimSQL = `INSERT INTO grants (` + grantColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, client_id = excluded.client_id, subject = excluded.subject,
		family_id = excluded.family_id, session_id = excluded.session_id, data = excluded.data,
		created_us = excluded.created_us, expires_us = excluded.expires_us, consumed_us = NULL, revoked_us = NULL
	WHERE grants.kind = 'jti' AND grants.expires_us <= excluded.created_us`
