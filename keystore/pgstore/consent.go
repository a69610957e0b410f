package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/consent"
)

var (
	_ consent.Store         = (*Store)(nil)
	_ consent.ActivityStore = (*Store)(nil)
)

// Consent returns the record of subject and clientID.
func (s *Store) Consent(ctx context.Context, subject, clientID string) (consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return consent.Record{}, fmt.Errorf("pgstore: consent: %w", err)
	}
	var scopes string
	var granted time.Time
	err := s.pool.QueryRow(ctx, `SELECT scopes, granted FROM consents WHERE subject = $1 AND client_id = $2`, subject, clientID).Scan(&scopes, &granted)
	if errors.Is(err, pgx.ErrNoRows) {
		return consent.Record{}, fmt.Errorf("pgstore: consent: %w", consent.ErrNotFound)
	}
	if err != nil {
		return consent.Record{}, wrap(ctx, "consent", err)
	}
	return consent.Record{Subject: subject, ClientID: clientID, Scopes: consent.SplitScopes(scopes), Granted: granted.UTC()}, nil
}

// SaveConsent stores r, replacing the record of its subject and client.
func (s *Store) SaveConsent(ctx context.Context, r consent.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("pgstore: save consent: %w", err)
	}
	_, err := s.grantExec(ctx, "save consent", `INSERT INTO consents (subject, client_id, scopes, granted) VALUES ($1, $2, $3, $4)
		ON CONFLICT (subject, client_id) DO UPDATE SET scopes = excluded.scopes, granted = excluded.granted`,
		r.Subject, r.ClientID, consent.JoinScopes(r.Scopes), storedTime(r.Granted))
	return err
}

// Consents lists the records of subject ("": all).
func (s *Store) Consents(ctx context.Context, subject string) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: consents: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT subject, client_id, scopes, granted FROM consents
		WHERE $1 = '' OR subject = $1 ORDER BY subject, client_id`, subject)
	if err != nil {
		return nil, wrap(ctx, "consents", err)
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		var r consent.Record
		var scopes string
		if err := rows.Scan(&r.Subject, &r.ClientID, &scopes, &r.Granted); err != nil {
			return nil, wrap(ctx, "consents", err)
		}
		r.Scopes, r.Granted = consent.SplitScopes(scopes), r.Granted.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "consents", err)
	}
	return out, nil
}

// RevokeConsent deletes the record of subject and clientID ("": all of
// subject's).
func (s *Store) RevokeConsent(ctx context.Context, subject, clientID string) (int, error) {
	return s.grantExec(ctx, "revoke consent", `DELETE FROM consents WHERE subject = $1 AND ($2 = '' OR client_id = $2)`, subject, clientID)
}

// TouchSession records that session id is used at now, unless it has
// been idle for longer than idle: one statement, which updates only a
// row that is not idle (or inserts a missing one), so concurrent calls
// of every instance agree.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time, idle time.Duration) (bool, error) {
	n, err := s.grantExec(ctx, "touch session", `INSERT INTO session_activity (session_id, seen) VALUES ($1, $2)
		ON CONFLICT (session_id) DO UPDATE SET seen = greatest(session_activity.seen, excluded.seen)
		WHERE excluded.seen - session_activity.seen <= $3::bigint * interval '1 microsecond'`, id, storedTime(now), idle.Microseconds())
	return n > 0, err
}

// ForgetSessions deletes the activity records last used before before.
func (s *Store) ForgetSessions(ctx context.Context, before time.Time) (int, error) {
	return s.grantExec(ctx, "forget sessions", `DELETE FROM session_activity WHERE seen < $1`, storedTime(before))
}
