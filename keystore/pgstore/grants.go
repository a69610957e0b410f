package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/grant"
)

// The grants of the login flow live in the grants table of the same
// schema. Grant writes are single statements outside the key write path:
// they neither bump the store revision nor NOTIFY, since those are the
// keys' change signal and every instance would reload its keys after
// every token request otherwise.

var _ grant.Store = (*Store)(nil)

const grantColumns = `id, kind, client_id, subject, family_id, session_id, data, created, expires, consumed, revoked`

// consumeAttempts bounds ConsumeGrant's retries when a grant appears
// between its UPDATE and the read that explains a refusal.
const consumeAttempts = 3

// nullText stores "" as NULL (family_id and session_id are NULL when
// unset, so their partial indexes stay small).
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// dataArg is a NOT NULL byte column's value as stored (a grant's
// payload, a passkey's aaguid): pgx sends a nil slice as NULL, so nil is
// stored empty.
func dataArg(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanGrant reads one row of grantColumns.
func scanGrant(row pgx.Row) (grant.Grant, error) {
	var (
		g                 grant.Grant
		kind              string
		family, session   *string
		consumed, revoked *time.Time
	)
	if err := row.Scan(&g.ID, &kind, &g.ClientID, &g.Subject, &family, &session, &g.Data, &g.Created, &g.Expires, &consumed, &revoked); err != nil {
		return grant.Grant{}, err
	}
	g.Kind = grant.Kind(kind)
	if family != nil {
		g.FamilyID = *family
	}
	if session != nil {
		g.SessionID = *session
	}
	if len(g.Data) == 0 {
		g.Data = nil
	}
	g.Created, g.Expires = g.Created.UTC(), g.Expires.UTC()
	if consumed != nil {
		g.Consumed = consumed.UTC()
	}
	if revoked != nil {
		g.Revoked = revoked.UTC()
	}
	return g, nil
}

// CreateGrant stores g; grant.ErrExists if its id is taken.
func (s *Store) CreateGrant(ctx context.Context, g grant.Grant) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("pgstore: create grant: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: create grant: %w", err)
	}
	tag, err := s.pool.Exec(ctx, insertGrant, grantArgs(g)...)
	if err != nil {
		return wrap(ctx, "create grant", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: create grant: %w", grant.ErrExists)
	}
	return nil
}

const insertGrant = `INSERT INTO grants (` + grantColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (id) DO NOTHING`

// grantArgs are the arguments of insertGrant for g.
func grantArgs(g grant.Grant) []any {
	return []any{g.ID, string(g.Kind), g.ClientID, g.Subject, nullText(g.FamilyID), nullText(g.SessionID), dataArg(g.Data),
		storedTime(g.Created), storedTime(g.Expires), nullTime(g.Consumed), nullTime(g.Revoked)}
}

// Grant returns a grant by id; grant.ErrNotFound if none.
func (s *Store) Grant(ctx context.Context, id string) (grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, fmt.Errorf("pgstore: grant: %w", err)
	}
	g, err := scanGrant(s.pool.QueryRow(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		g, err = scanGrant(s.pool.QueryRow(ctx, onceGrantSQL, id))
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return grant.Grant{}, fmt.Errorf("pgstore: grant: %w", grant.ErrNotFound)
	}
	if err != nil {
		return grant.Grant{}, wrap(ctx, "grant", err)
	}
	return g, nil
}

// ConsumeGrant marks a grant used at now, once, atomically across every
// process: a single UPDATE matches only a grant that is unused, unrevoked
// and unexpired at now, and concurrent UPDATEs of one row are serialized
// by its row lock (the loser re-checks the committed row and matches
// nothing). When the UPDATE matches nothing, the row is read to return the
// right sentinel with the grant; consumed and revoked are only ever set,
// so the read sees the state that refused it. It returns the grant as it
// was before this call.
func (s *Store) ConsumeGrant(ctx context.Context, id string, now time.Time) (grant.Grant, error) {
	const op = "consume grant"
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	at := storedTime(now)
	for range consumeAttempts {
		g, err := scanGrant(s.pool.QueryRow(ctx, `UPDATE grants SET consumed = $2
			WHERE id = $1 AND consumed IS NULL AND revoked IS NULL AND expires > $2
			RETURNING `+grantColumns, id, at))
		if err == nil {
			g.Consumed = time.Time{} // as it was
			return g, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return grant.Grant{}, wrap(ctx, op, err)
		}
		g, err = scanGrant(s.pool.QueryRow(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return grant.Grant{}, fmt.Errorf("pgstore: %s: %w", op, grant.ErrNotFound)
		}
		if err != nil {
			return grant.Grant{}, wrap(ctx, op, err)
		}
		if refusal := g.ConsumeRefusal(now); refusal != nil {
			return g, fmt.Errorf("pgstore: %s: %w", op, refusal)
		}
		// The grant was created after the UPDATE ran: try again.
	}
	return grant.Grant{}, fmt.Errorf("pgstore: %s: grant %q kept changing during %d attempts; retry", op, id, consumeAttempts)
}

// RevokeGrant marks one grant revoked at now (a grant revoked before keeps
// its time); grant.ErrNotFound if none.
func (s *Store) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: revoke grant: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE grants SET revoked = COALESCE(revoked, $2) WHERE id = $1`, id, storedTime(now))
	if err != nil {
		return wrap(ctx, "revoke grant", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: revoke grant: %w", grant.ErrNotFound)
	}
	return nil
}

// grantExec runs one grant statement and returns the rows it changed.
func (s *Store) grantExec(ctx context.Context, op, query string, args ...any) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	return int(tag.RowsAffected()), nil
}

// RevokeFamily revokes every unrevoked grant of a refresh-token family
// and returns how many it changed. An empty familyID matches nothing.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) (int, error) {
	if familyID == "" {
		return 0, nil
	}
	return s.grantExec(ctx, "revoke grant family", `UPDATE grants SET revoked = $2 WHERE family_id = $1 AND revoked IS NULL`,
		familyID, storedTime(now))
}

// RevokeSession revokes every unrevoked grant of a login session and
// returns how many it changed. An empty sessionID matches nothing.
func (s *Store) RevokeSession(ctx context.Context, sessionID string, now time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.grantExec(ctx, "revoke session grants", `UPDATE grants SET revoked = $2 WHERE session_id = $1 AND revoked IS NULL`,
		sessionID, storedTime(now))
}

// DeleteExpired deletes grants and one-time identifiers (once_ids) that
// expired before t and returns how many,
// grant.CleanBatch rows per statement: token writes never wait behind a
// long delete.
func (s *Store) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	n, err := s.deleteBatches(ctx, "delete expired grants", `DELETE FROM grants WHERE id IN (
		SELECT id FROM grants WHERE expires < $1 LIMIT $2)`, t)
	if err != nil {
		return n, err
	}
	m, err := s.deleteBatches(ctx, "delete expired one-time identifiers", deleteExpiredOnceSQL, t)
	return n + m, err
}

// deleteBatches runs query, a DELETE of at most its second argument's
// rows expired before its first, until it deletes fewer than
// grant.CleanBatch, and returns how many it deleted.
func (s *Store) deleteBatches(ctx context.Context, op, query string, t time.Time) (int, error) {
	total := 0
	for {
		n, err := s.grantExec(ctx, op, query, storedTime(t), grant.CleanBatch)
		total += n
		if err != nil || n < grant.CleanBatch {
			return total, err
		}
	}
}

// Rotate consumes the grant id, stores next and deletes the earlier
// consumed refresh tokens of next's family, in one transaction. The
// UPDATE's row lock serializes concurrent rotations of one token: the
// loser re-checks the committed row and matches nothing.
func (s *Store) Rotate(ctx context.Context, id string, now time.Time, next grant.Grant) (grant.Grant, error) {
	const op = "rotate"
	if err := grant.ValidateRotation(next); err != nil {
		return grant.Grant{}, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	at := storedTime(now)
	// One statement, one round trip (a transaction of its own): was
	// BEGIN, UPDATE, INSERT, DELETE, COMMIT. A taken id of next fails the
	// statement (a unique violation), which undoes the consumption too.
	g, err := scanGrant(s.pool.QueryRow(ctx, rotateSQL, append(grantArgs(next), id, at)...))
	switch {
	case err == nil:
		g.Consumed = time.Time{} // as it was
		return g, nil
	case isUniqueViolation(err): // grants has one unique key, its id
		return grant.Grant{}, fmt.Errorf("pgstore: %s: %w", op, grant.ErrExists)
	case !errors.Is(err, pgx.ErrNoRows):
		return grant.Grant{}, wrap(ctx, op, err)
	}
	// Nothing changed: say why. A refused grant cannot become consumable.
	g, err = s.Grant(ctx, id)
	if errors.Is(err, grant.ErrNotFound) {
		return grant.Grant{}, fmt.Errorf("pgstore: %s: %w", op, grant.ErrNotFound)
	}
	if err != nil {
		return grant.Grant{}, err
	}
	refusal := g.ConsumeRefusal(now)
	if refusal == nil {
		return grant.Grant{}, fmt.Errorf("pgstore: %s: grant %q was refused but is consumable; retry", op, id)
	}
	return g, fmt.Errorf("pgstore: %s: %w", op, refusal)
}

// rotateSQL consumes grant $12 at $13 and, if it did, inserts the grant
// of $1–$11 and deletes the consumed refresh tokens of its family but
// $12; it returns the consumed grant. The sub-statements share one
// snapshot, so the DELETE does not see the UPDATE's change (and excludes
// $12 anyway).
const rotateSQL = `WITH used AS (
		UPDATE grants SET consumed = $13
		WHERE id = $12 AND consumed IS NULL AND revoked IS NULL AND expires > $13
		RETURNING ` + grantColumns + `
	), added AS (
		INSERT INTO grants (` + grantColumns + `)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bytea, $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz
		WHERE EXISTS (SELECT 1 FROM used)
	), gone AS (
		DELETE FROM grants WHERE family_id = $5::text AND kind = 'refresh_token' AND consumed IS NOT NULL AND id <> $12
			AND EXISTS (SELECT 1 FROM used)
	)
	SELECT ` + grantColumns + ` FROM used`

// insertSessionSQL inserts a session ($1–$11) and its first code
// ($12–$22).
const insertSessionSQL = `INSERT INTO grants (` + grantColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11),
	($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`

// StartSession revokes end, stores sess and its first code, in one
// transaction.
func (s *Store) StartSession(ctx context.Context, end, sess, code grant.Grant) error {
	if err := grant.ValidateSessionStart(sess, code); err != nil {
		return fmt.Errorf("pgstore: start session: %w", err)
	}
	if end.ID == "" {
		// A new browser's sign-in: both rows in one statement, one round
		// trip (was BEGIN, INSERT, INSERT, COMMIT). A taken id fails the
		// statement, which stores neither.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pgstore: start session: %w", err)
		}
		_, err := s.pool.Exec(ctx, insertSessionSQL, append(grantArgs(sess), grantArgs(code)...)...)
		switch {
		case isUniqueViolation(err): // grants has one unique key, its id
			return fmt.Errorf("pgstore: start session: %w", grant.ErrExists)
		case err != nil:
			return wrap(ctx, "start session", err)
		}
		return nil
	}
	return s.tx(ctx, "start session", func(tx pgx.Tx) error {
		if end.ID != "" {
			if _, err := tx.Exec(ctx, `UPDATE grants SET revoked = COALESCE(revoked, $2) WHERE id = $1`, end.ID, storedTime(sess.Created)); err != nil {
				return err
			}
			if end.SessionID != "" {
				if err := s.lockSession(ctx, tx, end.SessionID); err != nil {
					return err
				}
				if _, err := deleteSessionCodes(ctx, tx, end.SessionID, 0); err != nil {
					return err
				}
			}
		}
		for _, g := range []grant.Grant{sess, code} {
			tag, err := tx.Exec(ctx, insertGrant, grantArgs(g)...)
			if err != nil {
				return err
			}
			if err := refuseIfNone(tag, grant.ErrExists); err != nil {
				return err
			}
		}
		return nil
	})
}

// lockSession takes the transaction-scoped advisory lock of a login
// session's codes: CreateCode and DeleteSessionCodes of one session are
// serialized across every instance, each seeing what the previous one
// committed (every statement of a READ COMMITTED transaction takes a new
// snapshot).
func (s *Store) lockSession(ctx context.Context, tx pgx.Tx, sessionID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, advisoryKey("signet session codes\x00"+sessionID, s.schema))
	return err
}

// deleteSessionCodes deletes the unredeemed codes of sessionID beyond the
// newest keep, in tx (which holds the session's lock).
func deleteSessionCodes(ctx context.Context, tx pgx.Tx, sessionID string, keep int) (int, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM grants WHERE id IN (
		SELECT id FROM grants WHERE session_id = $1 AND kind = 'authorization_code' AND consumed IS NULL
		ORDER BY created DESC, id COLLATE "C" DESC OFFSET $2)`, sessionID, keep)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// CreateCode stores the code g of a live session and deletes the
// session's unredeemed codes beyond keep, in one transaction holding the
// session's advisory lock.
func (s *Store) CreateCode(ctx context.Context, g grant.Grant, keep int) (int, error) {
	if err := g.ValidateCode(keep); err != nil {
		return 0, fmt.Errorf("pgstore: create code: %w", err)
	}
	var deleted int
	err := s.tx(ctx, "create code", func(tx pgx.Tx) error {
		if err := s.lockSession(ctx, tx, g.SessionID); err != nil {
			return err
		}
		var live bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM grants WHERE session_id = $1 AND kind = 'session'
			AND revoked IS NULL AND expires > $2)`, g.SessionID, storedTime(g.Created)).Scan(&live); err != nil {
			return err
		}
		if !live {
			return errRefused{grant.ErrNoSession}
		}
		tag, err := tx.Exec(ctx, insertGrant, grantArgs(g)...)
		if err != nil {
			return err
		}
		if err := refuseIfNone(tag, grant.ErrExists); err != nil {
			return err
		}
		deleted, err = deleteSessionCodes(ctx, tx, g.SessionID, keep)
		return err
	})
	return deleted, err
}

// DeleteSessionCodes deletes every unredeemed code of a login session,
// holding the session's advisory lock.
func (s *Store) DeleteSessionCodes(ctx context.Context, sessionID string) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	var n int
	err := s.tx(ctx, "delete session codes", func(tx pgx.Tx) error {
		if err := s.lockSession(ctx, tx, sessionID); err != nil {
			return err
		}
		var err error
		n, err = deleteSessionCodes(ctx, tx, sessionID, 0)
		return err
	})
	return n, err
}

// FamilyGrants returns the grants of a refresh-token family, newest
// first.
func (s *Store) FamilyGrants(ctx context.Context, familyID string) ([]grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: family grants: %w", err)
	}
	if familyID == "" {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+grantColumns+` FROM grants WHERE family_id = $1
		ORDER BY created DESC, id COLLATE "C" DESC`, familyID)
	if err != nil {
		return nil, wrap(ctx, "family grants", err)
	}
	defer rows.Close()
	var out []grant.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, wrap(ctx, "family grants", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "family grants", err)
	}
	return out, nil
}
