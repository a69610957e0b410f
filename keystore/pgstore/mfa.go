package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/mfa"
)

// Second factors (package mfa): tables mfa_totp and mfa_recovery_codes.
// Each conditional write is one statement (a row lock serializes
// concurrent ones across instances), so a time step is used once in the
// whole cluster. Like grant writes, these neither bump the store
// revision nor NOTIFY.

var _ mfa.Store = (*Store)(nil)

// TOTP implements mfa.Store.
func (s *Store) TOTP(ctx context.Context, subject string) (mfa.TOTP, error) {
	t, err := scanTOTP(s.pool.QueryRow(ctx, `SELECT `+totpColumns+` FROM mfa_totp WHERE subject = $1`, subject))
	if errors.Is(err, pgx.ErrNoRows) {
		return mfa.TOTP{}, fmt.Errorf("pgstore: totp: %w", mfa.ErrNotFound)
	}
	if err != nil {
		return mfa.TOTP{}, wrap(ctx, "totp", err)
	}
	return t, nil
}

// totpColumns are the columns scanTOTP reads.
const totpColumns = `subject, secret, created, confirmed, last_step`

// scanTOTP reads one row of totpColumns.
func scanTOTP(row pgx.Row) (mfa.TOTP, error) {
	var t mfa.TOTP
	var confirmed *time.Time
	if err := row.Scan(&t.Subject, &t.Secret, &t.Created, &confirmed, &t.LastStep); err != nil {
		return mfa.TOTP{}, err
	}
	t.Created = t.Created.UTC()
	if confirmed != nil {
		t.Confirmed = confirmed.UTC()
	}
	return t, nil
}

// BeginTOTP implements mfa.Store.
func (s *Store) BeginTOTP(ctx context.Context, t mfa.TOTP) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO mfa_totp AS m (subject, secret, created, confirmed, last_step) VALUES ($1, $2, $3, NULL, 0)
		ON CONFLICT (subject) DO UPDATE SET secret = EXCLUDED.secret, created = EXCLUDED.created, last_step = 0
		WHERE m.confirmed IS NULL`, t.Subject, t.Secret, t.Created)
	if err != nil {
		return wrap(ctx, "begin totp", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: begin totp: %w", mfa.ErrEnrolled)
	}
	return nil
}

// ConfirmTOTP implements mfa.Store.
func (s *Store) ConfirmTOTP(ctx context.Context, subject string, secret []byte, step int64, recovery [][]byte, now time.Time) error {
	return s.tx(ctx, "confirm totp", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE mfa_totp SET confirmed = $1, last_step = $2 WHERE subject = $3 AND secret = $4 AND confirmed IS NULL`,
			now, step, subject, secret)
		if err != nil {
			return err
		}
		if err := refuseIfNone(tag, mfa.ErrNotFound); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE subject = $1`, subject); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO mfa_recovery_codes (subject, code_hash) SELECT $1, unnest($2::bytea[])`, subject, recovery)
		return err
	})
}

// UseTOTPStep implements mfa.Store.
func (s *Store) UseTOTPStep(ctx context.Context, subject string, step int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mfa_totp SET last_step = $1 WHERE subject = $2 AND confirmed IS NOT NULL AND last_step < $1`, step, subject)
	if err != nil {
		return wrap(ctx, "use totp step", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: use totp step: %w", mfa.ErrReplayed)
	}
	return nil
}

// UseRecoveryCode implements mfa.Store.
func (s *Store) UseRecoveryCode(ctx context.Context, subject string, hash []byte) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE subject = $1 AND code_hash = $2`, subject, hash)
	if err != nil {
		return wrap(ctx, "use recovery code", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: use recovery code: %w", mfa.ErrNotFound)
	}
	return nil
}

// RecoveryCodesLeft implements mfa.Store.
func (s *Store) RecoveryCodesLeft(ctx context.Context, subject string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM mfa_recovery_codes WHERE subject = $1`, subject).Scan(&n); err != nil {
		return 0, wrap(ctx, "recovery codes left", err)
	}
	return n, nil
}

// DeleteMFA implements mfa.Store.
func (s *Store) DeleteMFA(ctx context.Context, subject string) (bool, error) {
	var n int64
	err := s.tx(ctx, "delete mfa", func(tx pgx.Tx) error {
		for _, q := range []string{`DELETE FROM mfa_totp WHERE subject = $1`, `DELETE FROM mfa_recovery_codes WHERE subject = $1`} {
			tag, err := tx.Exec(ctx, q, subject)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return n > 0, err
}

// ListTOTP implements mfa.Store.
func (s *Store) ListTOTP(ctx context.Context) ([]mfa.TOTP, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+totpColumns+` FROM mfa_totp ORDER BY subject`)
	if err != nil {
		return nil, wrap(ctx, "list totp", err)
	}
	defer rows.Close()
	var out []mfa.TOTP
	for rows.Next() {
		t, err := scanTOTP(rows)
		if err != nil {
			return nil, wrap(ctx, "list totp", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list totp", err)
	}
	return out, nil
}

// ResealTOTP implements mfa.Store.
func (s *Store) ResealTOTP(ctx context.Context, subject string, old, sealed []byte) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mfa_totp SET secret = $1 WHERE subject = $2 AND secret = $3`, sealed, subject, old)
	if err != nil {
		return wrap(ctx, "reseal totp", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: reseal totp: %w", mfa.ErrNotFound)
	}
	return nil
}
