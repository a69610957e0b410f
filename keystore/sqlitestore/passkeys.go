package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/signet-id/signet/mfa"
)

// WebAuthn passkeys (package mfa): table mfa_passkeys.

var _ mfa.PasskeyStore = (*Store)(nil)

// AddPasskey implements mfa.PasskeyStore.
func (s *Store) AddPasskey(ctx context.Context, p mfa.Passkey) error {
	return s.txStatement(ctx, "add passkey", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mfa_passkeys WHERE subject = ?`, p.Subject).Scan(&n); err != nil {
			return err
		}
		if n >= mfa.MaxPasskeys {
			return mfa.ErrTooManyPasskeys
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO mfa_passkeys (credential_id, subject, public_key, sign_count, attestation, aaguid, flags, created_us)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING`,
			p.ID, p.Subject, p.PublicKey, int64(p.SignCount), p.Attestation, dataArg(p.AAGUID), int64(p.Flags), micros(p.Created))
		if err != nil {
			return err
		}
		return affected(res, mfa.ErrEnrolled)
	})
}

// Passkeys implements mfa.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, subject string) ([]mfa.Passkey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT credential_id, public_key, sign_count, attestation, aaguid, flags, created_us
		FROM mfa_passkeys WHERE subject = ? ORDER BY created_us, credential_id`, subject)
	if err != nil {
		return nil, s.wrap(ctx, "passkeys", err)
	}
	defer rows.Close()
	out := []mfa.Passkey{}
	for rows.Next() {
		p := mfa.Passkey{Subject: subject}
		var count, flags, created int64
		if err := rows.Scan(&p.ID, &p.PublicKey, &count, &p.Attestation, &p.AAGUID, &flags, &created); err != nil {
			return nil, s.wrap(ctx, "passkeys", err)
		}
		p.SignCount, p.Flags, p.Created = uint32(count), uint8(flags), fromMicros(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "passkeys", err)
	}
	return out, nil
}

// UsePasskey implements mfa.PasskeyStore.
func (s *Store) UsePasskey(ctx context.Context, subject string, id []byte, count uint32) error {
	return s.txStatement(ctx, "use passkey", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mfa_passkeys SET sign_count = ?1 WHERE subject = ?2 AND credential_id = ?3
			AND (sign_count < ?1 OR (sign_count = 0 AND ?1 = 0))`, int64(count), subject, id)
		if err != nil {
			return err
		}
		return affected(res, mfa.ErrReplayed)
	})
}

// DeletePasskeys implements mfa.PasskeyStore.
func (s *Store) DeletePasskeys(ctx context.Context, subject string) (bool, error) {
	var n int64
	err := s.txStatement(ctx, "delete passkeys", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mfa_passkeys WHERE subject = ?`, subject)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlitestore: %w", err)
	}
	return n > 0, nil
}
