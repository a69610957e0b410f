package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/userstore"
)

// The users of signet users (package userstore) live in the users table
// (migration 6). Like grant writes, user writes do not bump the store
// revision (the keys' change marker).

var _ userstore.Store = (*Store)(nil)

const userColumns = `subject, username, password_hash, claims, disabled, created_us, updated_us`

// revokeSubjectSQL revokes a user's sessions, refresh tokens and codes.
const revokeSubjectSQL = `UPDATE grants SET revoked_us = ? WHERE subject = ? AND revoked_us IS NULL
	AND kind IN ('session', 'refresh_token', 'authorization_code')`

func scanUser(row interface{ Scan(...any) error }) (userstore.Record, error) {
	var (
		r                userstore.Record
		claims           string
		disabled         int
		created, updated int64
	)
	if err := row.Scan(&r.Subject, &r.Username, &r.PasswordHash, &claims, &disabled, &created, &updated); err != nil {
		return userstore.Record{}, err
	}
	if err := json.Unmarshal([]byte(claims), &r.Claims); err != nil {
		return userstore.Record{}, fmt.Errorf("user %q: claims: %w", r.Username, err)
	}
	r.Disabled = disabled != 0
	r.Created, r.Updated = fromMicros(created), fromMicros(updated)
	return r, nil
}

func userArgs(r userstore.Record) ([]any, error) {
	claims := r.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %w", userstore.ErrInvalid, err)
	}
	disabled := 0
	if r.Disabled {
		disabled = 1
	}
	return []any{r.Subject, r.Username, r.PasswordHash, string(b), disabled, micros(r.Created), micros(r.Updated)}, nil
}

// CreateUser stores r; userstore.ErrExists if its username or subject is
// taken.
func (s *Store) CreateUser(ctx context.Context, r userstore.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: create user: %w", err)
	}
	args, err := userArgs(r)
	if err != nil {
		return fmt.Errorf("sqlitestore: create user: %w", err)
	}
	return s.txStatement(ctx, "create user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return err
		}
		return affected(res, userstore.ErrExists)
	})
}

func (s *Store) userWhere(ctx context.Context, op, where, arg string) (userstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return userstore.Record{}, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	r, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where+` = ?`, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return userstore.Record{}, fmt.Errorf("sqlitestore: %s: %w", op, userstore.ErrNotFound)
	}
	if err != nil {
		return userstore.Record{}, s.wrap(ctx, op, err)
	}
	return r, nil
}

// UserByName returns the user username.
func (s *Store) UserByName(ctx context.Context, username string) (userstore.Record, error) {
	return s.userWhere(ctx, "user by name", "username", username)
}

// UserBySubject returns the user subject.
func (s *Store) UserBySubject(ctx context.Context, subject string) (userstore.Record, error) {
	return s.userWhere(ctx, "user by subject", "subject", subject)
}

// Users returns every user, ordered by username.
func (s *Store) Users(ctx context.Context) ([]userstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: users: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, s.wrap(ctx, "users", err)
	}
	defer rows.Close()
	var out []userstore.Record
	for rows.Next() {
		r, err := scanUser(rows)
		if err != nil {
			return nil, s.wrap(ctx, "users", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(ctx, "users", err)
	}
	return out, nil
}

// UpdateUser replaces the user r.Subject (Created stays).
func (s *Store) UpdateUser(ctx context.Context, r userstore.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("sqlitestore: update user: %w", err)
	}
	args, err := userArgs(r)
	if err != nil {
		return fmt.Errorf("sqlitestore: update user: %w", err)
	}
	return s.tx(ctx, "update user", func(tx *sql.Tx) error {
		var other string
		err := tx.QueryRowContext(ctx, `SELECT subject FROM users WHERE username = ? AND subject <> ?`, r.Username, r.Subject).Scan(&other)
		if err == nil {
			return errNoChange{userstore.ErrExists}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var was int
		if err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE subject = ?`, r.Subject).Scan(&was); errors.Is(err, sql.ErrNoRows) {
			return errNoChange{userstore.ErrNotFound}
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET username = ?, password_hash = ?, claims = ?, disabled = ?, updated_us = ? WHERE subject = ?`,
			args[1], args[2], args[3], args[4], args[6], r.Subject); err != nil {
			return err
		}
		if r.Disabled && was == 0 {
			_, err := tx.ExecContext(ctx, revokeSubjectSQL, micros(r.Updated), r.Subject)
			return err
		}
		return nil
	})
}

// UpgradePassword replaces the hash old by new.
func (s *Store) UpgradePassword(ctx context.Context, subject, old, new string, now time.Time) error {
	return s.tx(ctx, "upgrade password", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_us = ? WHERE subject = ? AND password_hash = ?`, new, micros(now), subject, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var x int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE subject = ?`, subject).Scan(&x); errors.Is(err, sql.ErrNoRows) {
			return errNoChange{userstore.ErrNotFound}
		} else if err != nil {
			return err
		}
		return errNoChange{userstore.ErrChanged}
	})
}

// DisableUser disables the user and revokes their grants in the same
// transaction.
func (s *Store) DisableUser(ctx context.Context, subject string, now time.Time) (int, error) {
	return s.endUser(ctx, "disable user", `UPDATE users SET disabled = 1, updated_us = ? WHERE subject = ?`, subject, now, micros(now), subject)
}

// EnableUser enables the user.
func (s *Store) EnableUser(ctx context.Context, subject string, now time.Time) error {
	return s.txStatement(ctx, "enable user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 0, updated_us = ? WHERE subject = ?`, micros(now), subject)
		if err != nil {
			return err
		}
		return affected(res, userstore.ErrNotFound)
	})
}

// DeleteUser deletes the user and revokes their grants in the same
// transaction.
func (s *Store) DeleteUser(ctx context.Context, subject string, now time.Time) (int, error) {
	return s.endUser(ctx, "delete user", `DELETE FROM users WHERE subject = ?`, subject, now, subject)
}

// endUser runs stmt (disable or delete the user subject) and revokes the
// user's grants at now in one transaction, returning how many it revoked.
func (s *Store) endUser(ctx context.Context, op, stmt, subject string, now time.Time, args ...any) (int, error) {
	var n int64
	err := s.tx(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, stmt, args...)
		if err != nil {
			return err
		}
		if err := affected(res, userstore.ErrNotFound); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, revokeSubjectSQL, micros(now), subject)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// AnyUsers reports whether the store holds any user, with one query.
func (s *Store) AnyUsers(ctx context.Context) (bool, error) {
	var has bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&has); err != nil {
		return false, s.wrap(ctx, "any users", err)
	}
	return has, nil
}
