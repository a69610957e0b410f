package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/signet-id/signet/connector"
)

var _ connector.Store = (*Store)(nil)

// PutConnectorUser implements connector.Store.
func (s *Store) PutConnectorUser(ctx context.Context, r connector.Record) error {
	claims, err := json.Marshal(r.Claims)
	if err != nil {
		return fmt.Errorf("sqlitestore: put connector user: %w", err)
	}
	return s.txStatement(ctx, "put connector user", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO connector_users (subject, connector, claims, refresh_token, updated_us)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (subject) DO UPDATE SET connector = excluded.connector, claims = excluded.claims,
				refresh_token = excluded.refresh_token, updated_us = excluded.updated_us`,
			r.Subject, r.Connector, string(claims), r.RefreshToken, micros(r.Updated))
		return err
	})
}

// ConnectorUser implements connector.Store.
func (s *Store) ConnectorUser(ctx context.Context, subject string) (connector.Record, error) {
	r := connector.Record{Subject: subject}
	var claims string
	var us int64
	err := s.db.QueryRowContext(ctx, `SELECT connector, claims, refresh_token, updated_us FROM connector_users WHERE subject = ?`, subject).
		Scan(&r.Connector, &claims, &r.RefreshToken, &us)
	if errors.Is(err, sql.ErrNoRows) {
		return connector.Record{}, connector.ErrNotFound
	}
	if err != nil {
		return connector.Record{}, s.wrap(ctx, "connector user", err)
	}
	if err := json.Unmarshal([]byte(claims), &r.Claims); err != nil {
		return connector.Record{}, fmt.Errorf("sqlitestore: connector user %s: the stored claims are not JSON: %w", subject, err)
	}
	r.Updated = fromMicros(us)
	return r, nil
}

// DeleteConnectorUser implements connector.Store.
func (s *Store) DeleteConnectorUser(ctx context.Context, subject string) error {
	return s.txStatement(ctx, "delete connector user", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM connector_users WHERE subject = ?`, subject)
		return err
	})
}
