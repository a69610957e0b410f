package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/consent"
)

var (
	_ consent.Store         = (*Store)(nil)
	_ consent.ActivityStore = (*Store)(nil)
)

// Consent returns the record of subject and clientID.
func (s *Store) Consent(ctx context.Context, subject, clientID string) (consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return consent.Record{}, fmt.Errorf("sqlitestore: consent: %w", err)
	}
	var scopes string
	var us int64
	err := s.db.QueryRowContext(ctx, `SELECT scopes, granted_us FROM consents WHERE subject = ? AND client_id = ?`, subject, clientID).Scan(&scopes, &us)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Record{}, fmt.Errorf("sqlitestore: consent: %w", consent.ErrNotFound)
	}
	if err != nil {
		return consent.Record{}, s.wrap(ctx, "consent", err)
	}
	return consent.Record{Subject: subject, ClientID: clientID, Scopes: consent.SplitScopes(scopes), Granted: fromMicros(us)}, nil
}

// SaveConsent stores r, replacing the record of its subject and client.
func (s *Store) SaveConsent(ctx context.Context, r consent.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: save consent: %w", err)
	}
	_, err := s.grantExec(ctx, "save consent", `INSERT INTO consents (subject, client_id, scopes, granted_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (subject, client_id) DO UPDATE SET scopes = excluded.scopes, granted_us = excluded.granted_us`,
		r.Subject, r.ClientID, consent.JoinScopes(r.Scopes), micros(r.Granted))
	return err
}

// Consents lists the records of subject ("": all).
func (s *Store) Consents(ctx context.Context, subject string) ([]consent.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: consents: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT subject, client_id, scopes, granted_us FROM consents
		WHERE ? = '' OR subject = ? ORDER BY subject, client_id`, subject, subject)
	if err != nil {
		return nil, s.wrap(ctx, "consents", err)
	}
	defer rows.Close()
	var out []consent.Record
	for rows.Next() {
		var r consent.Record
		var scopes string
		var us int64
		if err := rows.Scan(&r.Subject, &r.ClientID, &scopes, &us); err != nil {
			return nil, s.wrap(ctx, "consents", err)
		}
		r.Scopes, r.Granted = consent.SplitScopes(scopes), fromMicros(us)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "consents", err)
	}
	return out, nil
}

// RevokeConsent deletes the record of subject and clientID ("": all of
// subject's).
func (s *Store) RevokeConsent(ctx context.Context, subject, clientID string) (int, error) {
	return s.grantExec(ctx, "revoke consent", `DELETE FROM consents WHERE subject = ? AND (? = '' OR client_id = ?)`, subject, clientID, clientID)
}

// TouchSession records that session id is used at now, unless it has
// been idle for longer than idle: one statement, which updates only a
// row that is not idle (or inserts a missing one), so concurrent calls
// agree.
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time, idle time.Duration) (bool, error) {
	n, err := s.grantExec(ctx, "touch session", `INSERT INTO session_activity (session_id, seen_us) VALUES (?, ?)
		ON CONFLICT (session_id) DO UPDATE SET seen_us = max(seen_us, excluded.seen_us)
		WHERE excluded.seen_us - session_activity.seen_us <= ?`, id, micros(now), idle.Microseconds())
	return n > 0, err
}

// ForgetSessions deletes the activity records last used before before.
func (s *Store) ForgetSessions(ctx context.Context, before time.Time) (int, error) {
	return s.grantExec(ctx, "forget sessions", `DELETE FROM session_activity WHERE seen_us < ?`, micros(before))
}
