package keystore

import (
	"context"
	"errors"

	"github.com/signet-id/signet/key"
)

// Sentinel errors.
var (
	// ErrNotFound: the store holds no such key or value.
	ErrNotFound = errors.New("keystore: not found")
	// ErrExists: a key with that kid is already stored.
	ErrExists = errors.New("keystore: key already exists")
	// ErrUnavailable: the store cannot be reached (network, database
	// down). Callers keep serving what they hold and retry.
	ErrUnavailable = errors.New("keystore: store unavailable")
	// ErrCorrupt: a stored record cannot be read back. The error names
	// the record; nothing is deleted.
	ErrCorrupt = errors.New("keystore: stored record is corrupt")
)

// Store holds managed key records.
type Store interface {
	// Keys returns every stored record, in no particular order. A record
	// that cannot be parsed makes Keys fail with an error wrapping
	// ErrCorrupt that names it; it is never skipped silently.
	Keys(ctx context.Context) ([]key.Record, error)
	// CreateKey stores a new record; ErrExists if its kid is taken.
	CreateKey(ctx context.Context, r key.Record) error
	// UpdateKey replaces the record with the same kid; ErrNotFound if none.
	UpdateKey(ctx context.Context, r key.Record) error
	// DeleteKey removes a record; ErrNotFound if none.
	DeleteKey(ctx context.Context, kid string) error
}

// Locker is a store that can serialize key creation across every process
// that shares it (an advisory lock, a write transaction, a lock file).
// The manager holds the lock while it re-reads the store and creates what
// is still needed, so that instances started together create exactly one
// key per algorithm per rotation.
type Locker interface {
	// Lock blocks until the lock is held or ctx is done. The returned
	// function releases it; it must be called exactly once.
	Lock(ctx context.Context) (unlock func() error, err error)
}

// Revisioner is a store with a cheap change marker: any write to keys or
// metadata changes the revision. Instances poll it to learn promptly of
// another instance's changes.
type Revisioner interface {
	Revision(ctx context.Context) (string, error)
}

// Watcher is a store that pushes change notifications (PostgreSQL
// LISTEN/NOTIFY). Watch returns a channel that receives a value after any
// write by any process; it is closed when ctx is done or the watch
// breaks (the caller falls back to polling and watches again).
type Watcher interface {
	Watch(ctx context.Context) (<-chan struct{}, error)
}

// MetaStore keeps small named values beside the keys (the migration
// advisor's timestamps). Meta returns ErrNotFound for an unknown name.
type MetaStore interface {
	Meta(ctx context.Context, name string) (string, error)
	SetMeta(ctx context.Context, name, value string) error
}
