package granttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// RefreshToken returns refresh token number i of family, created at now,
// expiring a day later.
func RefreshToken(family string, i int, now time.Time) grant.Grant {
	return grant.Grant{ID: grant.HashHandle(fmt.Sprintf("%s/%d", family, i)), Kind: grant.KindRefreshToken, ClientID: "app",
		Subject: "alice", FamilyID: family, SessionID: "sid", Data: []byte(`{"scope":"openid offline_access"}`),
		Created: now, Expires: now.Add(24 * time.Hour)}
}

// FamilyRows counts the stored grants of family.
func FamilyRows(t *testing.T, s grant.Store, family string) int {
	t.Helper()
	gs, err := s.FamilyGrants(t.Context(), family)
	if err != nil {
		t.Fatal(err)
	}
	return len(gs)
}

// runRotation is the part of Run for Rotate, StartSession, FamilyGrants
// and batched cleaning.
func runRotation(t *testing.T, open func(t *testing.T) grant.Store, now time.Time) {
	t.Run("RotateBoundedFamily", func(t *testing.T) { RotateBounded(t, open(t), now, 200) })
	t.Run("RotateRefusals", func(t *testing.T) { rotateRefusals(t, open(t), now) })
	t.Run("RotateConcurrent", func(t *testing.T) { rotateConcurrent(t, open(t), now) })
	t.Run("StartSession", func(t *testing.T) { startSession(t, open(t), now) })
	t.Run("DeleteExpiredBatches", func(t *testing.T) { deleteExpiredBatches(t, open(t), now) })
}

// RotateBounded rotates one family n times: the family keeps two rows
// (its current token and the one just rotated) however long it lives,
// and the code that started it.
func RotateBounded(t *testing.T, s grant.Store, now time.Time, n int) {
	t.Helper()
	ctx := t.Context()
	code := Code("sid", "rot-code", now)
	code.FamilyID = "fam-rot"
	if err := s.CreateGrant(ctx, code); err != nil {
		t.Fatal(err)
	}
	first := RefreshToken("fam-rot", 0, now)
	if _, err := s.Rotate(ctx, code.ID, now, first); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	for i := 1; i <= n; i++ {
		at := now.Add(time.Duration(i) * time.Millisecond)
		was, err := s.Rotate(ctx, RefreshToken("fam-rot", i-1, now).ID, at, RefreshToken("fam-rot", i, at))
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
		if !was.Consumed.IsZero() || was.FamilyID != "fam-rot" {
			t.Fatalf("rotation %d returned %+v, want the token as it was", i, was)
		}
		if rows := FamilyRows(t, s, "fam-rot"); rows > 3 {
			t.Fatalf("after %d rotations the family has %d rows, want at most 3 (code, previous, current)", i, rows)
		}
	}
	if rows := FamilyRows(t, s, "fam-rot"); rows != 3 {
		t.Fatalf("family rows %d, want 3", rows)
	}
	prev, err := s.Grant(ctx, RefreshToken("fam-rot", n-1, now).ID)
	if err != nil || prev.Consumed.IsZero() {
		t.Fatalf("the token just rotated: %+v %v, want kept, consumed", prev, err)
	}
	if _, err := s.Grant(ctx, RefreshToken("fam-rot", n-2, now).ID); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("the token before it: %v, want deleted", err)
	}
	if g, err := s.Grant(ctx, code.ID); err != nil || g.Consumed.IsZero() {
		t.Fatalf("the code: %+v %v, want kept for replay detection", g, err)
	}
	// Reuse of the just-rotated token is still seen as such.
	if _, err := s.Rotate(ctx, prev.ID, now.Add(time.Hour), RefreshToken("fam-rot", n+10, now)); !errors.Is(err, grant.ErrConsumed) {
		t.Fatalf("reuse: %v, want ErrConsumed", err)
	}
}

func rotateRefusals(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	a, b := RefreshToken("fam-r", 1, now), RefreshToken("fam-r", 2, now)
	if err := s.CreateGrant(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGrant(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The successor's id is taken: nothing changes.
	if _, err := s.Rotate(ctx, a.ID, now, b); !errors.Is(err, grant.ErrExists) {
		t.Fatalf("taken successor: %v, want ErrExists", err)
	}
	if g, err := s.Grant(ctx, a.ID); err != nil || !g.Consumed.IsZero() {
		t.Fatalf("a refused rotation consumed the token: %+v %v", g, err)
	}
	bad := RefreshToken("", 3, now)
	if _, err := s.Rotate(ctx, a.ID, now, bad); !errors.Is(err, grant.ErrInvalid) {
		t.Fatalf("successor without family: %v, want ErrInvalid", err)
	}
	if _, err := s.Rotate(ctx, "missing", now, RefreshToken("fam-r", 4, now)); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.Grant(ctx, RefreshToken("fam-r", 4, now).ID); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("a refused rotation stored its successor: %v", err)
	}
	if _, err := s.RevokeFamily(ctx, "fam-r", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, a.ID, now, RefreshToken("fam-r", 5, now)); !errors.Is(err, grant.ErrRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := s.Rotate(ctx, b.ID, now.Add(48*time.Hour), RefreshToken("fam-r", 6, now)); !errors.Is(err, grant.ErrRevoked) {
		t.Fatalf("revoked and expired: %v", err)
	}
}

// rotateConcurrent: of many rotations of one token at once, one wins and
// stores its successor; the others see ErrConsumed and store nothing.
func rotateConcurrent(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	a := RefreshToken("fam-c", 0, now)
	if err := s.CreateGrant(ctx, a); err != nil {
		t.Fatal(err)
	}
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.Rotate(ctx, a.ID, now, RefreshToken("fam-c", i+1, now)) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, grant.ErrConsumed):
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d rotations won, want 1", won)
	}
	if rows := FamilyRows(t, s, "fam-c"); rows != 2 {
		t.Fatalf("family rows %d, want 2 (the token and its one successor)", rows)
	}
}

func startSession(t *testing.T, s grant.Store, now time.Time) {
	ctx := t.Context()
	old := Session("old", now)
	if err := s.CreateGrant(ctx, old); err != nil {
		t.Fatal(err)
	}
	oldCode := Code("old", "ss-old-code", now)
	if _, err := s.CreateCode(ctx, oldCode, 10); err != nil {
		t.Fatal(err)
	}
	sess, code := Session("new", now), Code("new", "ss-code", now)
	if err := s.StartSession(ctx, old, sess, code); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Grant(ctx, old.ID); err != nil || g.Revoked.IsZero() {
		t.Fatalf("the previous session: %+v %v, want revoked", g, err)
	}
	if _, err := s.Grant(ctx, oldCode.ID); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("the previous session's unredeemed code: %v, want deleted", err)
	}
	for _, g := range []grant.Grant{sess, code} {
		if got, err := s.Grant(ctx, g.ID); err != nil || got.Kind != g.Kind {
			t.Fatalf("%s: %+v %v", g.Kind, got, err)
		}
	}
	// A taken id: nothing of it is stored.
	sess2, code2 := Session("new2", now), Code("new2", "ss-code", now)
	if err := s.StartSession(ctx, grant.Grant{}, sess2, code2); !errors.Is(err, grant.ErrExists) {
		t.Fatalf("taken code id: %v", err)
	}
	if _, err := s.Grant(ctx, sess2.ID); !errors.Is(err, grant.ErrNotFound) {
		t.Fatalf("a refused start stored its session: %v", err)
	}
	if err := s.StartSession(ctx, grant.Grant{}, sess2, Code("other", "ss-code-2", now)); !errors.Is(err, grant.ErrInvalid) {
		t.Fatalf("a code of another session: %v", err)
	}
	// The new session takes codes as any other.
	if _, err := s.CreateCode(ctx, Code("new", "ss-code-3", now), 10); err != nil {
		t.Fatal(err)
	}
}

// deleteExpiredBatches: more expired grants than one batch all go.
func deleteExpiredBatches(t *testing.T, s grant.Store, now time.Time) {
	ctx := context.WithoutCancel(t.Context())
	total := grant.CleanBatch*2 + 7
	for i := range total {
		g := Grant(fmt.Sprintf("exp-%d", i), now)
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	live := Session("live", now)
	if err := s.CreateGrant(ctx, live); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpired(ctx, now.Add(2*time.Minute))
	if err != nil || n != total {
		t.Fatalf("deleted %d %v, want %d", n, err, total)
	}
	if _, err := s.Grant(ctx, live.ID); err != nil {
		t.Fatal(err)
	}
}
