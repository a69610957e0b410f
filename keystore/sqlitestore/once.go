package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signet-id/signet/grant"
)

var _ grant.OnceClaimer = (*Store)(nil)

// ClaimOnce stores g, a one-time identifier, in the table once_ids unless
// its id is taken by a grant or by an identifier not expired at g.Created
// (an expired one the same statement replaces). Only the id and the two
// times are stored: grant.ValidateClaim refuses a claim with other
// fields. Writes are serialized, so concurrent claims of one id succeed
// once; concurrent claims share one transaction and one fsync
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
		res, err := tx.StmtContext(ctx, s.claim).ExecContext(ctx, g.ID, micros(g.Created), micros(g.Expires))
		if err != nil {
			return err
		}
		return affected(res, grant.ErrExists)
	}})
}

// claimSQL inserts a one-time identifier into once_ids (schema version
// 11), or replaces one expired at its created time, unless grants holds
// the id: a grant of another kind, or an identifier claimed there before
// version 11 (refused until the cleaner deletes it: safe, only later than
// needed). The id is the primary key of a WITHOUT ROWID table: one b-tree
// entry, and one in the expiry index.
const claimSQL = `INSERT INTO once_ids (id, created_us, expires_us)
	SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM grants WHERE id = ?1)
	ON CONFLICT (id) DO UPDATE SET created_us = excluded.created_us, expires_us = excluded.expires_us
	WHERE once_ids.expires_us <= excluded.created_us`

// onceGrantSQL reads a one-time identifier of once_ids as the grant
// ClaimOnce stored: kind jti, its id and times, nothing else.
const onceGrantSQL = `SELECT id, 'jti', '', '', NULL, NULL, X'', created_us, expires_us, NULL, NULL FROM once_ids WHERE id = ?`

// deleteExpiredOnceSQL deletes a batch of the one-time identifiers that
// expired before a time (see DeleteExpired).
const deleteExpiredOnceSQL = `DELETE FROM once_ids WHERE id IN (
	SELECT id FROM once_ids WHERE expires_us < ? LIMIT ?)`
