package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/mfa"
)

// Second factors (package mfa): tables mfa_totp and mfa_recovery_codes.
// Writes go through the serialized write queue like grant writes, so a
// conditional update (a time step used once) is atomic.

var _ mfa.Store = (*Store)(nil)

// TOTP implements mfa.Store.
func (s *Store) TOTP(ctx context.Context, subject string) (mfa.TOTP, error) {
	if err := ctx.Err(); err != nil {
		return mfa.TOTP{}, fmt.Errorf("sqlitestore: totp: %w", err)
	}
	t, err := scanTOTP(s.db.QueryRowContext(ctx, `SELECT `+totpColumns+` FROM mfa_totp WHERE subject = ?`, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return mfa.TOTP{}, fmt.Errorf("sqlitestore: totp: %w", mfa.ErrNotFound)
	}
	if err != nil {
		return mfa.TOTP{}, s.wrap(ctx, "totp", err)
	}
	return t, nil
}

// totpColumns are the columns scanTOTP reads.
const totpColumns = `subject, secret, created_us, confirmed_us, last_step`

// scanTOTP reads one row of totpColumns.
func scanTOTP(row interface{ Scan(...any) error }) (mfa.TOTP, error) {
	var t mfa.TOTP
	var created int64
	var confirmed sql.NullInt64
	if err := row.Scan(&t.Subject, &t.Secret, &created, &confirmed, &t.LastStep); err != nil {
		return mfa.TOTP{}, err
	}
	t.Created = fromMicros(created)
	if confirmed.Valid {
		t.Confirmed = fromMicros(confirmed.Int64)
	}
	return t, nil
}

// BeginTOTP implements mfa.Store.
func (s *Store) BeginTOTP(ctx context.Context, t mfa.TOTP) error {
	return s.txStatement(ctx, "begin totp", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO mfa_totp (subject, secret, created_us, confirmed_us, last_step) VALUES (?, ?, ?, NULL, 0)
			ON CONFLICT (subject) DO UPDATE SET secret = excluded.secret, created_us = excluded.created_us, last_step = 0
			WHERE mfa_totp.confirmed_us IS NULL`, t.Subject, t.Secret, micros(t.Created))
		if err != nil {
			return err
		}
		return affected(res, mfa.ErrEnrolled)
	})
}

// ConfirmTOTP implements mfa.Store.
func (s *Store) ConfirmTOTP(ctx context.Context, subject string, secret []byte, step int64, recovery [][]byte, now time.Time) error {
	return s.tx(ctx, "confirm totp", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mfa_totp SET confirmed_us = ?, last_step = ? WHERE subject = ? AND secret = ? AND confirmed_us IS NULL`,
			micros(now), step, subject, secret)
		if err != nil {
			return err
		}
		if err := affected(res, mfa.ErrNotFound); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE subject = ?`, subject); err != nil {
			return err
		}
		for _, h := range recovery {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mfa_recovery_codes (subject, code_hash) VALUES (?, ?)`, subject, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseTOTPStep implements mfa.Store.
func (s *Store) UseTOTPStep(ctx context.Context, subject string, step int64) error {
	return s.txStatement(ctx, "use totp step", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mfa_totp SET last_step = ? WHERE subject = ? AND confirmed_us IS NOT NULL AND last_step < ?`,
			step, subject, step)
		if err != nil {
			return err
		}
		return affected(res, mfa.ErrReplayed)
	})
}

// UseRecoveryCode implements mfa.Store.
func (s *Store) UseRecoveryCode(ctx context.Context, subject string, hash []byte) error {
	return s.txStatement(ctx, "use recovery code", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE subject = ? AND code_hash = ?`, subject, hash)
		if err != nil {
			return err
		}
		return affected(res, mfa.ErrNotFound)
	})
}

// RecoveryCodesLeft implements mfa.Store.
func (s *Store) RecoveryCodesLeft(ctx context.Context, subject string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM mfa_recovery_codes WHERE subject = ?`, subject).Scan(&n); err != nil {
		return 0, s.wrap(ctx, "recovery codes left", err)
	}
	return n, nil
}

// DeleteMFA implements mfa.Store.
func (s *Store) DeleteMFA(ctx context.Context, subject string) (bool, error) {
	var n int64
	err := s.tx(ctx, "delete mfa", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM mfa_totp WHERE subject = ?`, `DELETE FROM mfa_recovery_codes WHERE subject = ?`} {
			res, err := tx.ExecContext(ctx, q, subject)
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += m
		}
		return nil
	})
	return n > 0, err
}

// ListTOTP implements mfa.Store.
func (s *Store) ListTOTP(ctx context.Context) ([]mfa.TOTP, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+totpColumns+` FROM mfa_totp ORDER BY subject`)
	if err != nil {
		return nil, s.wrap(ctx, "list totp", err)
	}
	defer rows.Close()
	var out []mfa.TOTP
	for rows.Next() {
		t, err := scanTOTP(rows)
		if err != nil {
			return nil, s.wrap(ctx, "list totp", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "list totp", err)
	}
	return out, nil
}

// ResealTOTP implements mfa.Store.
func (s *Store) ResealTOTP(ctx context.Context, subject string, old, sealed []byte) error {
	return s.txStatement(ctx, "reseal totp", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mfa_totp SET secret = ? WHERE subject = ? AND secret = ?`, sealed, subject, old)
		if err != nil {
			return err
		}
		return affected(res, mfa.ErrNotFound)
	})
}
