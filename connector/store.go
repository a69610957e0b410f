package connector

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// Record is what Signet keeps of a connector user who signed in: the
// claims mapped from the upstream provider, and its refresh token, sealed.
type Record struct {
	// Subject is the namespaced subject ("<connector>:<upstream id>").
	Subject string
	// Connector is the connector's id.
	Connector string
	// Claims are the user's claims, as mapped at the last sign-in or
	// refresh (JSON values).
	Claims map[string]any
	// RefreshToken is the upstream refresh token sealed (package seal);
	// nil when the provider granted none, or nothing seals.
	RefreshToken []byte
	// Updated is when the record was last written.
	Updated time.Time
}

// Store keeps connector users' records, shared by every instance (a
// grant store's database). Found on the opened key store by type
// assertion, as grant.Store is.
type Store interface {
	// PutConnectorUser writes r, replacing the record of r.Subject.
	PutConnectorUser(ctx context.Context, r Record) error
	// ConnectorUser returns the record of subject, or ErrNotFound.
	ConnectorUser(ctx context.Context, subject string) (Record, error)
	// DeleteConnectorUser deletes the record of subject (none: no error).
	DeleteConnectorUser(ctx context.Context, subject string) error
}

// UserRecord returns subject's record in s; found is false, with no
// error, when s has none (ErrNotFound).
func UserRecord(ctx context.Context, s Store, subject string) (r Record, found bool, err error) {
	r, err = s.ConnectorUser(ctx, subject)
	if errors.Is(err, ErrNotFound) {
		return Record{}, false, nil
	}
	return r, err == nil, err
}

// MemoryStore is a Store in memory: one process (the memory driver,
// tests).
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]Record
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: make(map[string]Record)} }

// PutConnectorUser implements Store.
func (s *MemoryStore) PutConnectorUser(_ context.Context, r Record) error {
	r.Claims = maps.Clone(r.Claims)
	r.RefreshToken = append([]byte(nil), r.RefreshToken...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[r.Subject] = r
	return nil
}

// ConnectorUser implements Store.
func (s *MemoryStore) ConnectorUser(_ context.Context, subject string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[subject]
	if !ok {
		return Record{}, ErrNotFound
	}
	r.Claims = maps.Clone(r.Claims)
	return r, nil
}

// DeleteConnectorUser implements Store.
func (s *MemoryStore) DeleteConnectorUser(_ context.Context, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, subject)
	return nil
}
