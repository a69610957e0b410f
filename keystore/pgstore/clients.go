package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/clientreg"
)

var _ clientreg.Provider = (*Store)(nil)

// ClientRegistry returns the client registry kept in the database
// (tables registry_records, registry_audit and registry_mark). Every
// write first increments registry_mark, whose row lock serializes the
// writes of every instance: the marker and the audit numbers follow the
// commit order, so an instance that saw marker n has seen every change up
// to n.
func (s *Store) ClientRegistry() clientreg.Store {
	return clientreg.New(registryBackend{s}, nil)
}

// registryBackend is the clientreg.Backend of a Store.
type registryBackend struct{ s *Store }

func (b registryBackend) Write(ctx context.Context, fn func(clientreg.Tx) error) error {
	return b.s.tx(ctx, "client registry write", func(tx pgx.Tx) error {
		return fn(registryTx{tx})
	})
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func readRecord(ctx context.Context, q querier, kind, id string) ([]byte, error) {
	var rec string
	err := q.QueryRow(ctx, `SELECT record FROM registry_records WHERE kind = $1 AND id = $2`, kind, id).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: %w: %s %q is not in the store", clientreg.ErrNotFound, kind, id)
	}
	if err != nil {
		return nil, wrap(ctx, "read "+kind, err)
	}
	return []byte(rec), nil
}

func (b registryBackend) Read(ctx context.Context, kind, id string) ([]byte, error) {
	return readRecord(ctx, b.s.pool, kind, id)
}

func (b registryBackend) List(ctx context.Context, kind, after string, limit int) ([][]byte, error) {
	rows, err := b.s.pool.Query(ctx, `SELECT record FROM registry_records WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3`, kind, after, limit)
	if err != nil {
		return nil, wrap(ctx, "list "+kind+"s", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]byte, error) {
		var rec string
		err := r.Scan(&rec)
		return []byte(rec), err
	})
	if err != nil {
		return nil, wrap(ctx, "list "+kind+"s", err)
	}
	return out, nil
}

func (b registryBackend) AuditLog(ctx context.Context, kind, id string, before int64, limit int) ([]clientreg.AuditEntry, error) {
	rows, err := b.s.pool.Query(ctx, `SELECT seq, at, actor, action, kind, id, before, after FROM registry_audit
		WHERE ($1 = 0 OR seq < $1) AND ($2 = '' OR kind = $2) AND ($3 = '' OR id = $3) ORDER BY seq DESC LIMIT $4`,
		before, kind, id, limit)
	if err != nil {
		return nil, wrap(ctx, "audit", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (clientreg.AuditEntry, error) {
		var e clientreg.AuditEntry
		var at time.Time
		var bf, af string
		err := r.Scan(&e.Seq, &at, &e.By, &e.Action, &e.Kind, &e.ID, &bf, &af)
		e.At, e.Before, e.After = at.UTC(), []byte(bf), []byte(af)
		return e, err
	})
	if err != nil {
		return nil, wrap(ctx, "audit", err)
	}
	return out, nil
}

func (b registryBackend) Mark(ctx context.Context) (int64, error) {
	var m int64
	if err := b.s.pool.QueryRow(ctx, `SELECT mark FROM registry_mark WHERE id = 1`).Scan(&m); err != nil {
		return 0, wrap(ctx, "registry mark", err)
	}
	return m, nil
}

// registryTx is a clientreg.Tx on a transaction of the store.
type registryTx struct{ tx pgx.Tx }

func (t registryTx) Bump(ctx context.Context) (int64, error) {
	var m int64
	if err := t.tx.QueryRow(ctx, `UPDATE registry_mark SET mark = mark + 1 WHERE id = 1 RETURNING mark`).Scan(&m); err != nil {
		return 0, fmt.Errorf("bump the registry mark: %w", err)
	}
	return m, nil
}

func (t registryTx) Get(ctx context.Context, kind, id string) ([]byte, error) {
	return readRecord(ctx, t.tx, kind, id)
}

func (t registryTx) Put(ctx context.Context, kind, id string, record []byte) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO registry_records (kind, id, record) VALUES ($1, $2, $3)
		ON CONFLICT (kind, id) DO UPDATE SET record = excluded.record`, kind, id, string(record))
	if err != nil {
		return fmt.Errorf("write %s %q: %w", kind, id, err)
	}
	return nil
}

func (t registryTx) Remove(ctx context.Context, kind, id string) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM registry_records WHERE kind = $1 AND id = $2`, kind, id); err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, id, err)
	}
	return nil
}

func (t registryTx) Append(ctx context.Context, e clientreg.AuditEntry) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO registry_audit (seq, at, actor, action, kind, id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.Seq, e.At, e.By, e.Action, e.Kind, e.ID, string(e.Before), string(e.After))
	if err != nil {
		return fmt.Errorf("write the audit log: %w", err)
	}
	return nil
}
