package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/connector"
)

var _ connector.Store = (*Store)(nil)

// PutConnectorUser implements connector.Store.
func (s *Store) PutConnectorUser(ctx context.Context, r connector.Record) error {
	claims, err := json.Marshal(r.Claims)
	if err != nil {
		return fmt.Errorf("pgstore: put connector user: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO connector_users (subject, connector, claims, refresh_token, updated)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (subject) DO UPDATE SET connector = excluded.connector, claims = excluded.claims,
			refresh_token = excluded.refresh_token, updated = excluded.updated`,
		r.Subject, r.Connector, string(claims), r.RefreshToken, r.Updated)
	if err != nil {
		return wrap(ctx, "put connector user", err)
	}
	return nil
}

// ConnectorUser implements connector.Store.
func (s *Store) ConnectorUser(ctx context.Context, subject string) (connector.Record, error) {
	r := connector.Record{Subject: subject}
	var claims []byte
	err := s.pool.QueryRow(ctx, `SELECT connector, claims, refresh_token, updated FROM connector_users WHERE subject = $1`, subject).
		Scan(&r.Connector, &claims, &r.RefreshToken, &r.Updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return connector.Record{}, connector.ErrNotFound
	}
	if err != nil {
		return connector.Record{}, wrap(ctx, "connector user", err)
	}
	if err := json.Unmarshal(claims, &r.Claims); err != nil {
		return connector.Record{}, fmt.Errorf("pgstore: connector user %s: the stored claims are not JSON: %w", subject, err)
	}
	r.Updated = r.Updated.UTC()
	return r, nil
}

// DeleteConnectorUser implements connector.Store.
func (s *Store) DeleteConnectorUser(ctx context.Context, subject string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM connector_users WHERE subject = $1`, subject); err != nil {
		return wrap(ctx, "delete connector user", err)
	}
	return nil
}
