package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signet-id/signet/userstore"
)

// The users of signet users (package userstore) live in the users table
// (migration 6), read from the database at every call: a user disabled
// by one instance is refused by every instance at its next request.

var _ userstore.Store = (*Store)(nil)

const userColumns = `subject, username, password_hash, claims, disabled, created, updated`

// revokeSubjectSQL revokes a user's sessions, refresh tokens and codes.
const revokeSubjectSQL = `UPDATE grants SET revoked = $1 WHERE subject = $2 AND revoked IS NULL
	AND kind IN ('session', 'refresh_token', 'authorization_code')`

func scanUser(row pgx.Row) (userstore.Record, error) {
	var (
		r      userstore.Record
		claims string
	)
	if err := row.Scan(&r.Subject, &r.Username, &r.PasswordHash, &claims, &r.Disabled, &r.Created, &r.Updated); err != nil {
		return userstore.Record{}, err
	}
	if err := json.Unmarshal([]byte(claims), &r.Claims); err != nil {
		return userstore.Record{}, fmt.Errorf("user %q: claims: %w", r.Username, err)
	}
	r.Created, r.Updated = r.Created.UTC(), r.Updated.UTC()
	return r, nil
}

func claimsJSON(r userstore.Record) (string, error) {
	claims := r.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("%w: claims: %w", userstore.ErrInvalid, err)
	}
	return string(b), nil
}

// CreateUser stores r; userstore.ErrExists if its username or subject is
// taken.
func (s *Store) CreateUser(ctx context.Context, r userstore.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("pgstore: create user: %w", err)
	}
	claims, err := claimsJSON(r)
	if err != nil {
		return fmt.Errorf("pgstore: create user: %w", err)
	}
	return s.tx(ctx, "create user", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			r.Subject, r.Username, r.PasswordHash, claims, r.Disabled, storedTime(r.Created), storedTime(r.Updated))
		if err != nil {
			return err
		}
		return refuseIfNone(tag, userstore.ErrExists)
	})
}

func (s *Store) userWhere(ctx context.Context, op, where, arg string) (userstore.Record, error) {
	if err := ctx.Err(); err != nil {
		return userstore.Record{}, fmt.Errorf("pgstore: %s: %w", op, err)
	}
	r, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where+` = $1`, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return userstore.Record{}, fmt.Errorf("pgstore: %s: %w", op, userstore.ErrNotFound)
	}
	if err != nil {
		return userstore.Record{}, wrap(ctx, op, err)
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
		return nil, fmt.Errorf("pgstore: users: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, wrap(ctx, "users", err)
	}
	defer rows.Close()
	var out []userstore.Record
	for rows.Next() {
		r, err := scanUser(rows)
		if err != nil {
			return nil, wrap(ctx, "users", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "users", err)
	}
	return out, nil
}

// UpdateUser replaces the user r.Subject (Created stays).
func (s *Store) UpdateUser(ctx context.Context, r userstore.Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("pgstore: update user: %w", err)
	}
	claims, err := claimsJSON(r)
	if err != nil {
		return fmt.Errorf("pgstore: update user: %w", err)
	}
	return s.tx(ctx, "update user", func(tx pgx.Tx) error {
		var was bool
		err := tx.QueryRow(ctx, `SELECT disabled FROM users WHERE subject = $1 FOR UPDATE`, r.Subject).Scan(&was)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRefused{userstore.ErrNotFound}
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE users SET username = $2, password_hash = $3, claims = $4, disabled = $5, updated = $6
			WHERE subject = $1 AND NOT EXISTS (SELECT 1 FROM users o WHERE o.username = $2 AND o.subject <> $1)`,
			r.Subject, r.Username, r.PasswordHash, claims, r.Disabled, storedTime(r.Updated))
		if err != nil {
			if isUniqueViolation(err) {
				return errRefused{userstore.ErrExists}
			}
			return err
		}
		if err := refuseIfNone(tag, userstore.ErrExists); err != nil {
			return err
		}
		if r.Disabled && !was {
			_, err := tx.Exec(ctx, revokeSubjectSQL, storedTime(r.Updated), r.Subject)
			return err
		}
		return nil
	})
}

// UpgradePassword replaces the hash old by new.
func (s *Store) UpgradePassword(ctx context.Context, subject, old, new string, now time.Time) error {
	return s.tx(ctx, "upgrade password", func(tx pgx.Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT password_hash FROM users WHERE subject = $1 FOR UPDATE`, subject).Scan(&cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return errRefused{userstore.ErrNotFound}
		case err != nil:
			return err
		case cur != old:
			return errRefused{userstore.ErrChanged}
		}
		_, err = tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated = $3 WHERE subject = $1`, subject, new, storedTime(now))
		return err
	})
}

// DisableUser disables the user and revokes their grants in the same
// transaction.
func (s *Store) DisableUser(ctx context.Context, subject string, now time.Time) (int, error) {
	return s.endUser(ctx, "disable user", `UPDATE users SET disabled = true, updated = $2 WHERE subject = $1`, subject, now, subject, storedTime(now))
}

// EnableUser enables the user.
func (s *Store) EnableUser(ctx context.Context, subject string, now time.Time) error {
	return s.tx(ctx, "enable user", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET disabled = false, updated = $2 WHERE subject = $1`, subject, storedTime(now))
		if err != nil {
			return err
		}
		return refuseIfNone(tag, userstore.ErrNotFound)
	})
}

// DeleteUser deletes the user and revokes their grants in the same
// transaction.
func (s *Store) DeleteUser(ctx context.Context, subject string, now time.Time) (int, error) {
	return s.endUser(ctx, "delete user", `DELETE FROM users WHERE subject = $1`, subject, now, subject)
}

// endUser runs stmt (disable or delete the user subject) and revokes the
// user's grants at now in one transaction, returning how many it revoked.
func (s *Store) endUser(ctx context.Context, op, stmt, subject string, now time.Time, args ...any) (int, error) {
	var n int64
	err := s.tx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, stmt, args...)
		if err != nil {
			return err
		}
		if err := refuseIfNone(tag, userstore.ErrNotFound); err != nil {
			return err
		}
		tag, err = tx.Exec(ctx, revokeSubjectSQL, storedTime(now), subject)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// isUniqueViolation reports a unique constraint refusing a statement (a
// username taken by a concurrent transaction).
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// AnyUsers reports whether the store holds any user, with one query.
func (s *Store) AnyUsers(ctx context.Context) (bool, error) {
	var has bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&has); err != nil {
		return false, wrap(ctx, "any users", err)
	}
	return has, nil
}
