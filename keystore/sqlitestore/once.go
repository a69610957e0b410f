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
//
// A batch of claims only is committed on a connection with
// synchronous=NORMAL (unless Options.DurableReplay): in WAL mode the
// commit is atomic and visible to every handle and process at once, and
// survives a crash of the process, but is not flushed to disk before the
// callers are answered, so an operating system crash or a power failure
// may lose the last claims (the next flush, by any later write or
// checkpoint, makes them durable). A lost claim lets its identifier be
// used once more while its token is still valid: at most a few minutes
// for client assertions and DPoP proofs. A batch holding any other write
// waits for the flush as before.
func (s *Store) ClaimOnce(ctx context.Context, g grant.Grant) error {
	if err := grant.ValidateClaim(g); err != nil {
		return fmt.Errorf("sqlitestore: claim once: %w", err)
	}
	return s.queueWrite(&write{ctx: ctx, op: "claim once", statement: true, relaxed: true, fn: func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.claim).ExecContext(ctx,
			g.ID, string(g.Kind), g.ClientID, g.Subject, nullText(g.FamilyID), nullText(g.SessionID), dataArg(g.Data),
			micros(g.Created), micros(g.Expires), nullMicros(g.Consumed), nullMicros(g.Revoked))
		if err != nil {
			return err
		}
		return affected(res, grant.ErrExists)
	}})
}

// claimSQL inserts a one-time identifier or replaces one expired at its
// created time.
const claimSQL = `INSERT INTO grants (` + grantColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, client_id = excluded.client_id, subject = excluded.subject,
		family_id = excluded.family_id, session_id = excluded.session_id, data = excluded.data,
		created_us = excluded.created_us, expires_us = excluded.expires_us, consumed_us = NULL, revoked_us = NULL
	WHERE grants.kind = 'jti' AND grants.expires_us <= excluded.created_us`
