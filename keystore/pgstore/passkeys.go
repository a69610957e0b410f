package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/mfa"
)

// WebAuthn passkeys (package mfa): table mfa_passkeys.

var _ mfa.PasskeyStore = (*Store)(nil)

// AddPasskey implements mfa.PasskeyStore. The subject's row count is
// checked under a transaction-scoped advisory lock on the subject, so
// concurrent additions across instances cannot pass the bound.
func (s *Store) AddPasskey(ctx context.Context, p mfa.Passkey) error {
	return s.tx(ctx, "add passkey", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('mfa_passkeys:' || $1))`, p.Subject); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM mfa_passkeys WHERE subject = $1`, p.Subject).Scan(&n); err != nil {
			return err
		}
		if n >= mfa.MaxPasskeys {
			return mfa.ErrTooManyPasskeys
		}
		tag, err := tx.Exec(ctx, `INSERT INTO mfa_passkeys (credential_id, subject, public_key, sign_count, attestation, aaguid, flags, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (credential_id) DO NOTHING`,
			p.ID, p.Subject, p.PublicKey, int64(p.SignCount), p.Attestation, dataArg(p.AAGUID), int32(p.Flags), p.Created)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return mfa.ErrEnrolled
		}
		return nil
	})
}

// Passkeys implements mfa.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, subject string) ([]mfa.Passkey, error) {
	rows, err := s.pool.Query(ctx, `SELECT credential_id, public_key, sign_count, attestation, aaguid, flags, created
		FROM mfa_passkeys WHERE subject = $1 ORDER BY created, credential_id`, subject)
	if err != nil {
		return nil, wrap(ctx, "passkeys", err)
	}
	defer rows.Close()
	out := []mfa.Passkey{}
	for rows.Next() {
		p := mfa.Passkey{Subject: subject}
		var count int64
		var flags int32
		if err := rows.Scan(&p.ID, &p.PublicKey, &count, &p.Attestation, &p.AAGUID, &flags, &p.Created); err != nil {
			return nil, wrap(ctx, "passkeys", err)
		}
		p.SignCount, p.Flags = uint32(count), uint8(flags)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "passkeys", err)
	}
	return out, nil
}

// UsePasskey implements mfa.PasskeyStore.
func (s *Store) UsePasskey(ctx context.Context, subject string, id []byte, count uint32) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mfa_passkeys SET sign_count = $1 WHERE subject = $2 AND credential_id = $3
		AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`, int64(count), subject, id)
	if err != nil {
		return wrap(ctx, "use passkey", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: use passkey: %w", mfa.ErrReplayed)
	}
	return nil
}

// DeletePasskeys implements mfa.PasskeyStore.
func (s *Store) DeletePasskeys(ctx context.Context, subject string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM mfa_passkeys WHERE subject = $1`, subject)
	if err != nil {
		return false, wrap(ctx, "delete passkeys", err)
	}
	return tag.RowsAffected() > 0, nil
}
