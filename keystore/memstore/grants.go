package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/signet-id/signet/grant"
)

var _ grant.Store = (*Store)(nil)

func cloneGrant(g grant.Grant) grant.Grant {
	g.Data = slices.Clone(g.Data)
	return g
}

// CreateGrant stores g; grant.ErrExists if its id is taken.
func (s *Store) CreateGrant(ctx context.Context, g grant.Grant) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("memstore: create grant: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants == nil {
		s.grants = make(map[string]grant.Grant)
	}
	if _, ok := s.grants[g.ID]; ok {
		return fmt.Errorf("memstore: grant: %w", grant.ErrExists)
	}
	s.grants[g.ID] = cloneGrant(g)
	return nil
}

// Grant returns a grant by id.
func (s *Store) Grant(ctx context.Context, id string) (grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok {
		return grant.Grant{}, fmt.Errorf("memstore: grant: %w", grant.ErrNotFound)
	}
	return cloneGrant(g), nil
}

// ConsumeGrant marks a grant used, once.
func (s *Store) ConsumeGrant(ctx context.Context, id string, now time.Time) (grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok {
		return grant.Grant{}, fmt.Errorf("memstore: grant: %w", grant.ErrNotFound)
	}
	out := cloneGrant(g)
	if err := g.ConsumeRefusal(now); err != nil {
		return out, fmt.Errorf("memstore: grant: %w", err)
	}
	g.Consumed = now
	s.grants[id] = g
	return out, nil
}

// RevokeGrant marks one grant revoked.
func (s *Store) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok {
		return fmt.Errorf("memstore: grant: %w", grant.ErrNotFound)
	}
	if g.Revoked.IsZero() {
		g.Revoked = now
		s.grants[id] = g
	}
	return nil
}

func (s *Store) revokeWhere(ctx context.Context, match func(grant.Grant) bool, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, g := range s.grants {
		if match(g) && g.Revoked.IsZero() {
			g.Revoked = now
			s.grants[id] = g
			n++
		}
	}
	return n, nil
}

// RevokeFamily revokes every grant of a refresh-token family.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) (int, error) {
	if familyID == "" {
		return 0, nil
	}
	return s.revokeWhere(ctx, func(g grant.Grant) bool { return g.FamilyID == familyID }, now)
}

// RevokeSession revokes every grant of a login session.
func (s *Store) RevokeSession(ctx context.Context, sessionID string, now time.Time) (int, error) {
	if sessionID == "" {
		return 0, nil
	}
	return s.revokeWhere(ctx, func(g grant.Grant) bool { return g.SessionID == sessionID }, now)
}

// DeleteExpired deletes grants that expired before t.
func (s *Store) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, g := range s.grants {
		if g.Expires.Before(t) {
			delete(s.grants, id)
			n++
		}
	}
	return n, nil
}

// sessionLive reports whether sessionID has an unrevoked session grant
// unexpired at now. s.mu is held.
func (s *Store) sessionLive(sessionID string, now time.Time) bool {
	for _, g := range s.grants {
		if g.Kind == grant.KindSession && g.SessionID == sessionID && g.Revoked.IsZero() && now.Before(g.Expires) {
			return true
		}
	}
	return false
}

// deleteSessionCodes deletes the unredeemed codes of sessionID beyond the
// newest keep and returns how many. s.mu is held.
func (s *Store) deleteSessionCodes(sessionID string, keep int) int {
	var codes []grant.Grant
	for _, g := range s.grants {
		if g.Kind == grant.KindAuthorizationCode && g.SessionID == sessionID && g.Consumed.IsZero() {
			codes = append(codes, g)
		}
	}
	if len(codes) <= keep {
		return 0
	}
	slices.SortFunc(codes, grant.NewestFirst)
	for _, g := range codes[keep:] {
		delete(s.grants, g.ID)
	}
	return len(codes) - keep
}

// CreateCode stores the code g of a live session and deletes the
// session's unredeemed codes beyond keep, under the store's mutex. It
// scans every grant: this store is for tests and throw-away servers.
func (s *Store) CreateCode(ctx context.Context, g grant.Grant, keep int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := g.ValidateCode(keep); err != nil {
		return 0, fmt.Errorf("memstore: create code: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants == nil {
		s.grants = make(map[string]grant.Grant)
	}
	if _, ok := s.grants[g.ID]; ok {
		return 0, fmt.Errorf("memstore: create code: %w", grant.ErrExists)
	}
	if !s.sessionLive(g.SessionID, g.Created) {
		return 0, fmt.Errorf("memstore: create code: %w", grant.ErrNoSession)
	}
	s.grants[g.ID] = cloneGrant(g)
	return s.deleteSessionCodes(g.SessionID, keep), nil
}

// DeleteSessionCodes deletes every unredeemed code of a login session.
func (s *Store) DeleteSessionCodes(ctx context.Context, sessionID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if sessionID == "" {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteSessionCodes(sessionID, 0), nil
}

// Rotate consumes the grant id and stores next in one step, deleting the
// family's earlier consumed refresh tokens.
func (s *Store) Rotate(ctx context.Context, id string, now time.Time, next grant.Grant) (grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return grant.Grant{}, err
	}
	if err := grant.ValidateRotation(next); err != nil {
		return grant.Grant{}, fmt.Errorf("memstore: rotate: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[id]
	if !ok {
		return grant.Grant{}, fmt.Errorf("memstore: rotate: %w", grant.ErrNotFound)
	}
	out := cloneGrant(g)
	if err := g.ConsumeRefusal(now); err != nil {
		return out, fmt.Errorf("memstore: rotate: %w", err)
	}
	if _, ok := s.grants[next.ID]; ok {
		return grant.Grant{}, fmt.Errorf("memstore: rotate: %w", grant.ErrExists)
	}
	for oid, o := range s.grants {
		if o.FamilyID == next.FamilyID && o.Kind == grant.KindRefreshToken && !o.Consumed.IsZero() && oid != id {
			delete(s.grants, oid)
		}
	}
	g.Consumed = now
	s.grants[id] = g
	s.grants[next.ID] = cloneGrant(next)
	return out, nil
}

// StartSession stores a session and its first code, revoking end.
func (s *Store) StartSession(ctx context.Context, end, sess, code grant.Grant) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := grant.ValidateSessionStart(sess, code); err != nil {
		return fmt.Errorf("memstore: start session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grants == nil {
		s.grants = make(map[string]grant.Grant)
	}
	_, taken1 := s.grants[sess.ID]
	_, taken2 := s.grants[code.ID]
	if taken1 || taken2 || sess.ID == code.ID {
		return fmt.Errorf("memstore: start session: %w", grant.ErrExists)
	}
	if g, ok := s.grants[end.ID]; ok && end.ID != "" && g.Revoked.IsZero() {
		g.Revoked = sess.Created
		s.grants[end.ID] = g
	}
	if end.ID != "" && end.SessionID != "" {
		s.deleteSessionCodes(end.SessionID, 0)
	}
	s.grants[sess.ID] = cloneGrant(sess)
	s.grants[code.ID] = cloneGrant(code)
	return nil
}

// FamilyGrants returns the grants of a refresh-token family.
func (s *Store) FamilyGrants(ctx context.Context, familyID string) ([]grant.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if familyID == "" {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []grant.Grant
	for _, g := range s.grants {
		if g.FamilyID == familyID {
			out = append(out, cloneGrant(g))
		}
	}
	slices.SortFunc(out, grant.NewestFirst)
	return out, nil
}
