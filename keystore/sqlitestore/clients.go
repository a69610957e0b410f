package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/signet-id/signet/clientreg"
)

var _ clientreg.Provider = (*Store)(nil)

// ClientRegistry returns the client registry kept in the database
// (tables registry_records, registry_audit and registry_mark). Its writes
// are group-committed with the store's other writes.
func (s *Store) ClientRegistry() clientreg.Store {
	return clientreg.New(registryBackend{s}, nil)
}

// registryBackend is the clientreg.Backend of a Store.
type registryBackend struct{ s *Store }

func (b registryBackend) Write(ctx context.Context, fn func(clientreg.Tx) error) error {
	return b.s.tx(ctx, "client registry write", func(tx *sql.Tx) error {
		return fn(registryTx{tx: tx})
	})
}

func (b registryBackend) Read(ctx context.Context, kind, id string) ([]byte, error) {
	var rec string
	err := b.s.db.QueryRowContext(ctx, `SELECT record FROM registry_records WHERE kind = ? AND id = ?`, kind, id).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitestore: %w: %s %q is not in the store", clientreg.ErrNotFound, kind, id)
	}
	if err != nil {
		return nil, b.s.wrap(ctx, "read "+kind, err)
	}
	return []byte(rec), nil
}

func (b registryBackend) List(ctx context.Context, kind, after string, limit int) ([][]byte, error) {
	rows, err := b.s.db.QueryContext(ctx, `SELECT record FROM registry_records WHERE kind = ? AND id > ? ORDER BY id LIMIT ?`, kind, after, limit)
	if err != nil {
		return nil, b.s.wrap(ctx, "list "+kind+"s", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, b.s.wrap(ctx, "list "+kind+"s", err)
		}
		out = append(out, []byte(rec))
	}
	if err := rows.Err(); err != nil {
		return nil, b.s.wrap(ctx, "list "+kind+"s", err)
	}
	return out, nil
}

func (b registryBackend) AuditLog(ctx context.Context, kind, id string, before int64, limit int) ([]clientreg.AuditEntry, error) {
	rows, err := b.s.db.QueryContext(ctx, `SELECT seq, at_us, actor, action, kind, id, before, after FROM registry_audit
		WHERE (? = 0 OR seq < ?) AND (? = '' OR kind = ?) AND (? = '' OR id = ?) ORDER BY seq DESC LIMIT ?`,
		before, before, kind, kind, id, id, limit)
	if err != nil {
		return nil, b.s.wrap(ctx, "audit", err)
	}
	defer rows.Close()
	var out []clientreg.AuditEntry
	for rows.Next() {
		var e clientreg.AuditEntry
		var at int64
		var bf, af string
		if err := rows.Scan(&e.Seq, &at, &e.By, &e.Action, &e.Kind, &e.ID, &bf, &af); err != nil {
			return nil, b.s.wrap(ctx, "audit", err)
		}
		e.At, e.Before, e.After = fromMicros(at), []byte(bf), []byte(af)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, b.s.wrap(ctx, "audit", err)
	}
	return out, nil
}

func (b registryBackend) Mark(ctx context.Context) (int64, error) {
	var m int64
	if err := b.s.db.QueryRowContext(ctx, `SELECT mark FROM registry_mark WHERE id = 1`).Scan(&m); err != nil {
		return 0, b.s.wrap(ctx, "registry mark", err)
	}
	return m, nil
}

// registryTx is a clientreg.Tx on a write transaction of the store.
type registryTx struct {
	tx *sql.Tx
}

func (t registryTx) Bump(ctx context.Context) (int64, error) {
	var m int64
	if err := t.tx.QueryRowContext(ctx, `UPDATE registry_mark SET mark = mark + 1 WHERE id = 1 RETURNING mark`).Scan(&m); err != nil {
		return 0, fmt.Errorf("bump the registry mark: %w", err)
	}
	return m, nil
}

func (t registryTx) Get(ctx context.Context, kind, id string) ([]byte, error) {
	var rec string
	err := t.tx.QueryRowContext(ctx, `SELECT record FROM registry_records WHERE kind = ? AND id = ?`, kind, id).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %q is not in the store", clientreg.ErrNotFound, kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %q: %w", kind, id, err)
	}
	return []byte(rec), nil
}

func (t registryTx) Put(ctx context.Context, kind, id string, record []byte) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO registry_records (kind, id, record) VALUES (?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET record = excluded.record`, kind, id, string(record))
	if err != nil {
		return fmt.Errorf("write %s %q: %w", kind, id, err)
	}
	return nil
}

func (t registryTx) Remove(ctx context.Context, kind, id string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM registry_records WHERE kind = ? AND id = ?`, kind, id); err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, id, err)
	}
	return nil
}

func (t registryTx) Append(ctx context.Context, e clientreg.AuditEntry) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO registry_audit (seq, at_us, actor, action, kind, id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, micros(e.At), e.By, e.Action, e.Kind, e.ID, string(e.Before), string(e.After))
	if err != nil {
		return fmt.Errorf("write the audit log: %w", err)
	}
	return nil
}
