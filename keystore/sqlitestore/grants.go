package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/grant"
)

// The grants of the login flow live in the grants table of the same
// database. Grant writes do not bump the store revision: the revision is
// the keys' change marker, and instances would reload their keys after
// every token request otherwise.

var _ grant.Store = (*Store)(nil)

const grantColumns = `id, kind, client_id, subject, family_id, session_id, data, created_us, expires_us, consumed_us, revoked_us`

// nullText stores "" as NULL (family_id and session_id are NULL when
// unset, so their partial indexes stay small).
func nullText(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// dataArg is a NOT NULL byte column's value as stored (a grant's
// payload, a passkey's aaguid): nil is stored empty.
func dataArg(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanGrant reads one row of grantColumns.
func scanGrant(row interface{ Scan(...any) error }) (grant.Grant, error) {
	var (
		g                 grant.Grant
		kind              string
		family, session   sql.NullString
		created, expires  int64
		consumed, revoked sql.NullInt64
	)
	if err := row.Scan(&g.ID, &kind, &g.ClientID, &g.Subject, &family, &session, &g.Data, &created, &expires, &consumed, &revoked); err != nil {
		return grant.Grant{}, err
	}
	g.Kind = grant.Kind(kind)
	g.FamilyID, g.SessionID = family.String, session.String
	if len(g.Data) == 0 {
		g.Data = nil
	}
	g.Created, g.Expires = fromMicros(created), fromMicros(expires)
	if consumed.Valid {
		g.Consumed = fromMicros(consumed.Int64)
	}
	if revoked.Valid {
		g.Revoked = fromMicros(revoked.Int64)
	}
	return g, nil
}

// grantExec runs one statement as a grant write and returns the rows it
// changed.
func (s *Store) grantExec(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int64
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// CreateGrant stores g; grant.ErrExists if its id is taken.
func (s *Store) CreateGrant(ctx context.Context, g grant.Grant) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create grant: %w", err)
	}
	return s.tx(ctx, "create grant", func(tx *sql.Tx) error { return s.insertGrant(ctx, tx, g) })
}

// insertGrant inserts g in tx; errNoChange{grant.ErrExists} if its id is
// taken.
func (s *Store) insertGrant(ctx context.Context, tx *sql.Tx, g grant.Grant) error {
	res, err := s.execTx(ctx, tx, `INSERT INTO grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		g.ID, string(g.Kind), g.ClientID, g.Subject, nullText(g.FamilyID), nullText(g.SessionID), dataArg(g.Data),
		micros(g.Created), micros(g.Expires), nullMicros(g.Consumed), nullMicros(g.Revoked))
	if err != nil {
		return err
	}
	return affected(res, grant.ErrExists)
}

// Grant returns a grant by id; grant.ErrNotFound if none.
func (s *Store) Grant(ctx context.Context, id string) (grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, fmt.Errorf("sqlitestore: grant: %w", err)
	}
	g, err := scanGrant(s.queryRow(ctx, `SELECT `+grantColumns+` FROM grants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return grant.Grant{}, fmt.Errorf("sqlitestore: grant: %w", grant.ErrNotFound)
	}
	if err != nil {
		return grant.Grant{}, s.wrap(ctx, "grant", err)
	}
	return g, nil
}

// ConsumeGrant marks a grant used at now, once: one UPDATE matches only a
// grant that is unused, unrevoked and unexpired at now. When it matches
// none, the row is read in the same transaction to say why. It returns
// the grant as it was before this call.
func (s *Store) ConsumeGrant(ctx context.Context, id string, now time.Time) (grant.Grant, error) {
	return s.consume(ctx, "consume grant", id, now, nil)
}

// consume is ConsumeGrant; then, when the grant was consumed, also runs
// after in the same transaction (an error of after undoes everything).
func (s *Store) consume(ctx context.Context, op, id string, now time.Time, after func(*sql.Tx) error) (grant.Grant, error) {
	var (
		g       grant.Grant
		refusal error
	)
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		var err error
		g, err = scanGrant(s.queryRowTx(ctx, tx, `UPDATE grants SET consumed_us = ?2
			WHERE id = ?1 AND consumed_us IS NULL AND revoked_us IS NULL AND expires_us > ?2
			RETURNING `+grantColumns, id, micros(now)))
		if err == nil {
			g.Consumed = time.Time{} // as it was
			if after != nil {
				return after(tx)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// Writers are serialized by the IMMEDIATE transaction, so the row
		// read here is the one the UPDATE refused.
		g, err = scanGrant(s.queryRowTx(ctx, tx, `SELECT `+grantColumns+` FROM grants WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errNoChange{grant.ErrNotFound}
		}
		if err != nil {
			return err
		}
		if refusal = g.ConsumeRefusal(now); refusal == nil {
			return fmt.Errorf("grant %q was refused but is consumable at %s", id, now.UTC().Format(time.RFC3339Nano))
		}
		return nil // nothing changed; commit ends the transaction
	})
	if err != nil {
		return grant.Grant{}, err
	}
	if refusal != nil {
		return g, fmt.Errorf("sqlitestore: %s: %w", op, refusal)
	}
	return g, nil
}

// Rotate consumes the grant id, stores next and deletes the earlier
// consumed refresh tokens of next's family, in one transaction.
func (s *Store) Rotate(ctx context.Context, id string, now time.Time, next grant.Grant) (grant.Grant, error) {
	if err := grant.ValidateRotation(next); err != nil {
		return grant.Grant{}, fmt.Errorf("sqlitestore: rotate: %w", err)
	}
	return s.consume(ctx, "rotate", id, now, func(tx *sql.Tx) error {
		if err := s.insertGrant(ctx, tx, next); err != nil {
			return err
		}
		_, err := s.execTx(ctx, tx, `DELETE FROM grants WHERE family_id = ? AND kind = 'refresh_token'
			AND consumed_us IS NOT NULL AND id <> ?`, next.FamilyID, id)
		return err
	})
}

// StartSession revokes end, stores sess and its first code, in one
// transaction.
func (s *Store) StartSession(ctx context.Context, end, sess, code grant.Grant) error {
	if err := grant.ValidateSessionStart(sess, code); err != nil {
		return fmt.Errorf("sqlitestore: start session: %w", err)
	}
	return s.tx(ctx, "start session", func(tx *sql.Tx) error {
		if end.ID != "" {
			if _, err := s.execTx(ctx, tx, `UPDATE grants SET revoked_us = COALESCE(revoked_us, ?2) WHERE id = ?1`,
				end.ID, micros(sess.Created)); err != nil {
				return err
			}
			if end.SessionID != "" {
				if _, err := deleteSessionCodes(ctx, tx, end.SessionID, 0); err != nil {
					return err
				}
			}
		}
		if err := s.insertGrant(ctx, tx, sess); err != nil {
			return err
		}
		return s.insertGrant(ctx, tx, code)
	})
}

// RevokeGrant marks one grant revoked at now (a grant revoked before keeps
// its time); grant.ErrNotFound if none.
func (s *Store) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	return s.tx(ctx, "revoke grant", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE grants SET revoked_us = COALESCE(revoked_us, ?2) WHERE id = ?1`, id, micros(now))
		if err != nil {
			return err
		}
		return affected(res, grant.ErrNotFound)
	})
}

// RevokeFamily revokes every unrevoked grant of a refresh-token family
// and returns how many it changed. An empty familyID matches nothing.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) (int, error) {
	if familyID == "" {
		return 0, nil
	}
	return s.grantExec(ctx, "revoke grant family", `UPDATE grants SET revoked_us = ? WHERE family_id = ? AND revoked_us IS NULL`,
		micros(now), familyID)
}

// RevokeSession revokes every unrevoked grant of a login session and
// returns how many it changed. An empty sessionID matches nothing.
func (s *Store) RevokeSession(ctx context.Context, sessionID string, now time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.grantExec(ctx, "revoke session grants", `UPDATE grants SET revoked_us = ? WHERE session_id = ? AND revoked_us IS NULL`,
		micros(now), sessionID)
}

// DeleteExpired deletes grants that expired before t and returns how many,
// grant.CleanBatch rows per transaction: token writes queued meanwhile
// wait for one small batch at most.
func (s *Store) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		n, err := s.grantExec(ctx, "delete expired grants", `DELETE FROM grants WHERE id IN (
			SELECT id FROM grants WHERE expires_us < ? LIMIT ?)`, micros(t), grant.CleanBatch)
		total += n
		if err != nil || n < grant.CleanBatch {
			return total, err
		}
	}
}

// deleteSessionCodes deletes the unredeemed codes of sessionID beyond the
// newest keep, in tx.
func deleteSessionCodes(ctx context.Context, tx *sql.Tx, sessionID string, keep int) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE id IN (
		SELECT id FROM grants WHERE session_id = ?1 AND kind = 'authorization_code' AND consumed_us IS NULL
		ORDER BY created_us DESC, id DESC LIMIT -1 OFFSET ?2)`, sessionID, keep)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateCode stores the code g of a live session and deletes the
// session's unredeemed codes beyond keep, in one IMMEDIATE transaction:
// writers to the database are serialized, across processes too.
func (s *Store) CreateCode(ctx context.Context, g grant.Grant, keep int) (int, error) {
	if err := g.ValidateCode(keep); err != nil {
		return 0, fmt.Errorf("sqlitestore: create code: %w", err)
	}
	var deleted int
	err := s.tx(ctx, "create code", func(tx *sql.Tx) error {
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants WHERE session_id = ? AND kind = 'session'
			AND revoked_us IS NULL AND expires_us > ?`, g.SessionID, micros(g.Created)).Scan(&live); err != nil {
			return err
		}
		if live == 0 {
			return errNoChange{grant.ErrNoSession}
		}
		if err := s.insertGrant(ctx, tx, g); err != nil {
			return err
		}
		var err error
		deleted, err = deleteSessionCodes(ctx, tx, g.SessionID, keep)
		return err
	})
	return deleted, err
}

// DeleteSessionCodes deletes every unredeemed code of a login session.
func (s *Store) DeleteSessionCodes(ctx context.Context, sessionID string) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	var n int
	err := s.tx(ctx, "delete session codes", func(tx *sql.Tx) error {
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
		return nil, fmt.Errorf("sqlitestore: family grants: %w", err)
	}
	if familyID == "" {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+grantColumns+` FROM grants WHERE family_id = ?
		ORDER BY created_us DESC, id DESC`, familyID)
	if err != nil {
		return nil, s.wrap(ctx, "family grants", err)
	}
	defer rows.Close()
	var out []grant.Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, s.wrap(ctx, "family grants", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "family grants", err)
	}
	return out, nil
}
