package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strings"

	"github.com/signet-id/signet/grant"
)

var _ grant.OnceClaimer = (*Store)(nil)

// ClaimOnce stores g, a one-time identifier, in the table once_ids unless
// its id is taken by a grant or by an identifier not expired at g.Created
// (an expired one the same statement replaces). Only the id and the two
// times are stored: grant.ValidateClaim refuses a claim with other
// fields. Writes are serialized, so concurrent claims of one id succeed
// once; concurrent claims share one transaction and one fsync
// (the group commit of tx), and one statement (see claimAll), without a
// savepoint. The caller is answered after the batch's commit.
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
	return s.queueWrite(&write{ctx: ctx, op: "claim once", relaxed: true, claim: &g})
}

// claimAll claims the identifiers of a batch's claim writes in tx and
// answers each (its err stays nil when claimed); it reports whether any
// was claimed. The claims of a batch are one statement (claimManySQL),
// not one each: distinct ids go into one statement; an id repeated in the
// batch goes into the next statement, in the same transaction, so it sees
// the first one's row exactly as if the two had come one after the other.
// A failed statement refuses its own claims only: SQLite undoes it.
func (s *Store) claimAll(ctx context.Context, tx *sql.Tx, ws []*write) (changed bool) {
	for len(ws) > 0 {
		var (
			round, rest []*write
			ids         = make(map[string]struct{}, len(ws))
		)
		for _, w := range ws {
			if err := w.ctx.Err(); err != nil {
				w.err = fmt.Errorf("sqlitestore: %s: %w", w.op, err)
				continue
			}
			if _, dup := ids[w.claim.ID]; dup {
				rest = append(rest, w)
				continue
			}
			ids[w.claim.ID] = struct{}{}
			round = append(round, w)
		}
		if len(round) > 0 {
			changed = s.claimRound(ctx, tx, round) || changed
		}
		ws = rest
	}
	return changed
}

// claimRound claims the distinct identifiers of ws in one statement.
func (s *Store) claimRound(ctx context.Context, tx *sql.Tx, ws []*write) (changed bool) {
	claimed, err := s.claimMany(ctx, tx, ws)
	for _, w := range ws {
		switch _, ok := claimed[w.claim.ID]; {
		case err != nil:
			w.err = s.wrap(w.ctx, w.op, err)
		case !ok:
			w.err = fmt.Errorf("sqlitestore: %s: %w", w.op, grant.ErrExists)
		default:
			changed = true
		}
	}
	return changed
}

// claimMany runs claimManySQL for ws, whose ids are distinct, and returns
// the ids it inserted or replaced. The statement has room for a power of
// two of rows, the rest bound to NULL, so that a few statements (7 up to
// maxBatch) serve every batch size; a batch of one runs claimOneSQL,
// which needs no RETURNING (cheaper by a tenth of the claim). Only the
// holder of the write slot calls it (commit), so s.claims needs no lock.
func (s *Store) claimMany(ctx context.Context, tx *sql.Tx, ws []*write) (map[string]struct{}, error) {
	size := bits.Len(uint(len(ws) - 1)) // room for 1<<size rows
	st := s.claims[size]
	if st == nil {
		query := claimOneSQL
		if size > 0 {
			query = claimManySQL(1 << size)
		}
		var err error
		if st, err = s.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		s.claims[size] = st
	}
	args := make([]any, 3<<size)
	for i, w := range ws {
		args[3*i], args[3*i+1], args[3*i+2] = w.claim.ID, micros(w.claim.Created), micros(w.claim.Expires)
	}
	s.claimStatements.Add(1)
	claimed := make(map[string]struct{}, len(ws))
	if size == 0 {
		res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if n == 1 {
			claimed[ws[0].claim.ID] = struct{}{}
		}
		return claimed, err
	}
	rs, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		claimed[id] = struct{}{}
	}
	return claimed, rs.Err()
}

// claimOneSQL is claimManySQL for one row, which it changes (inserts or
// replaces) or not.
const claimOneSQL = `INSERT INTO once_ids (id, created_us, expires_us)
	SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM grants WHERE id = ?1)
	ON CONFLICT (id) DO UPDATE SET created_us = excluded.created_us, expires_us = excluded.expires_us
	WHERE once_ids.expires_us <= excluded.created_us`

// claimManySQL returns the statement that inserts up to n one-time
// identifiers, given as n (id, created_us, expires_us) rows with distinct
// ids (a row with a NULL id is none), into once_ids (schema version 11),
// or replaces one expired at its created time, unless grants holds the
// id: a grant of another kind, or an identifier claimed there before
// version 11 (refused until the cleaner deletes it: safe, only later than
// needed). RETURNING names the ids inserted or replaced, not those
// refused. once_ids is a rowid table: a claim appends its row and its
// expiry index entry, and adds an entry to the id's index at a random
// place (the ids are hashes), so each claim of a batch still writes about
// one page of its own to the WAL.
func claimManySQL(n int) string {
	return `WITH v (id, created_us, expires_us) AS (VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, n-1) + `)
	INSERT INTO once_ids (id, created_us, expires_us)
	SELECT id, created_us, expires_us FROM v WHERE v.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants WHERE grants.id = v.id)
	ON CONFLICT (id) DO UPDATE SET created_us = excluded.created_us, expires_us = excluded.expires_us
	WHERE once_ids.expires_us <= excluded.created_us
	RETURNING id`
}

// onceGrantSQL reads a one-time identifier of once_ids as the grant
// ClaimOnce stored: kind jti, its id and times, nothing else.
const onceGrantSQL = `SELECT id, 'jti', '', '', NULL, NULL, X'', created_us, expires_us, NULL, NULL FROM once_ids WHERE id = ?`

// deleteExpiredOnceSQL deletes a batch of the one-time identifiers that
// expired before a time (see DeleteExpired).
const deleteExpiredOnceSQL = `DELETE FROM once_ids WHERE id IN (
	SELECT id FROM once_ids WHERE expires_us < ? LIMIT ?)`
