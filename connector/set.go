package connector

import (
	"context"
	"fmt"

	"github.com/signet-id/signet/user"
)

// Set is the connectors of a server, in the order of their buttons. It
// is immutable and safe for concurrent use.
type Set struct {
	list []Connector
	byID map[string]Connector
}

// NewSet returns the Set of cs; ids must be unique and contain no ':'.
func NewSet(cs ...Connector) (*Set, error) {
	s := &Set{byID: make(map[string]Connector, len(cs))}
	for _, c := range cs {
		id := c.ID()
		if _, _, ok := SplitSubject(id); ok || id == "" {
			return nil, fmt.Errorf("connector: id %q: must be non-empty without ':'", id)
		}
		if s.byID[id] != nil {
			return nil, fmt.Errorf("connector: id %q is used twice", id)
		}
		s.byID[id] = c
		s.list = append(s.list, c)
	}
	return s, nil
}

// All returns the connectors in order.
func (s *Set) All() []Connector {
	if s == nil {
		return nil
	}
	return s.list
}

// Get returns the connector id, or nil.
func (s *Set) Get(id string) Connector {
	if s == nil {
		return nil
	}
	return s.byID[id]
}

// Owner returns the connector whose subject this is, or nil (a local
// user's subject).
func (s *Set) Owner(subject string) Connector {
	id, _, ok := SplitSubject(subject)
	if !ok {
		return nil
	}
	return s.Get(id)
}

// Source returns the user source of a server with these connectors: a
// connector's subjects are answered by their connector, every other one
// by local (which checks the passwords of the login form). A subject of
// a connector no longer configured is not active.
func (s *Set) Source(local user.Source) user.Source {
	return routed{set: s, local: local}
}

type routed struct {
	set   *Set
	local user.Source
}

func (r routed) Authenticate(ctx context.Context, username, password string) (string, error) {
	return r.local.Authenticate(ctx, username, password)
}

func (r routed) Active(ctx context.Context, subject string) (bool, error) {
	if c := r.set.Owner(subject); c != nil {
		return c.Active(ctx, subject)
	}
	return r.local.Active(ctx, subject)
}

func (r routed) Claims(ctx context.Context, req user.ClaimsRequest) (map[string]any, error) {
	if c := r.set.Owner(req.Subject); c != nil {
		return c.Claims(ctx, req)
	}
	return r.local.Claims(ctx, req)
}
