package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/userstore"
)

// Store is an in-memory key store. The zero value is not usable; call New.
type Store struct {
	lock chan struct{} // a one-slot semaphore: the cross-"instance" lock

	mu       sync.Mutex // guards the fields below
	keys     map[string]key.Record
	meta     map[string]string
	revision uint64
	watchers map[chan struct{}]struct{}
	grants   map[string]grant.Grant

	consents consentData                 // consent.go: its own lock
	registry clientreg.Store             // clients.go
	users    map[string]userstore.Record // by subject (users.go)
	mfa      mfaState                    // second factors (mfa.go)
	passkeys passkeyList                 // WebAuthn passkeys (passkeys.go)
}

// New returns an empty store.
func New() *Store {
	return &Store{
		lock:     make(chan struct{}, 1),
		keys:     make(map[string]key.Record),
		meta:     make(map[string]string),
		watchers: make(map[chan struct{}]struct{}),
		registry: clientreg.NewMemory(nil),
	}
}

var (
	_ keystore.Store      = (*Store)(nil)
	_ keystore.Locker     = (*Store)(nil)
	_ keystore.Revisioner = (*Store)(nil)
	_ keystore.Watcher    = (*Store)(nil)
	_ keystore.MetaStore  = (*Store)(nil)
)

func clone(r key.Record) key.Record {
	r.PrivateKey = slices.Clone(r.PrivateKey)
	r.Certificate = slices.Clone(r.Certificate)
	return r
}

// Keys returns copies of every record.
func (s *Store) Keys(ctx context.Context) ([]key.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]key.Record, 0, len(s.keys))
	for _, r := range s.keys {
		out = append(out, clone(r))
	}
	return out, nil
}

// CreateKey stores r; keystore.ErrExists if its kid is taken.
func (s *Store) CreateKey(ctx context.Context, r key.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memstore: create: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[r.KID]; ok {
		return fmt.Errorf("memstore: create %q: %w", r.KID, keystore.ErrExists)
	}
	s.keys[r.KID] = clone(r)
	s.changedLocked()
	return nil
}

// UpdateKey replaces the record with r's kid; keystore.ErrNotFound if none.
func (s *Store) UpdateKey(ctx context.Context, r key.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("memstore: update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[r.KID]; !ok {
		return fmt.Errorf("memstore: update %q: %w", r.KID, keystore.ErrNotFound)
	}
	s.keys[r.KID] = clone(r)
	s.changedLocked()
	return nil
}

// DeleteKey removes kid; keystore.ErrNotFound if none.
func (s *Store) DeleteKey(ctx context.Context, kid string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[kid]; !ok {
		return fmt.Errorf("memstore: delete %q: %w", kid, keystore.ErrNotFound)
	}
	delete(s.keys, kid)
	s.changedLocked()
	return nil
}

// Lock takes the store-wide creation lock.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() error {
		once.Do(func() { <-s.lock })
		return nil
	}, nil
}

// Revision returns a counter that every write increments.
func (s *Store) Revision(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatUint(s.revision, 10), nil
}

// Watch returns a channel signalled after every write, closed when ctx is
// done.
func (s *Store) Watch(ctx context.Context) (<-chan struct{}, error) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.watchers[ch] = struct{}{}
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		delete(s.watchers, ch)
		close(ch)
		s.mu.Unlock()
	}()
	return ch, nil
}

// Meta returns a named value; keystore.ErrNotFound if unset.
func (s *Store) Meta(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.meta[name]
	if !ok {
		return "", fmt.Errorf("memstore: meta %q: %w", name, keystore.ErrNotFound)
	}
	return v, nil
}

// SetMeta sets a named value.
func (s *Store) SetMeta(ctx context.Context, name, value string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[name] = value
	s.changedLocked()
	return nil
}

func (s *Store) changedLocked() {
	s.revision++
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
