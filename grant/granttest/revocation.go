package granttest

import (
	"context"
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// revocationReader checks grant.RevocationReader: HasRevocation is true
// exactly for a stored KindRevocation grant (expired or not, as Grant
// returns it), and agrees with grant.HasRevocation's fallback through
// Grant for a revocation record, an absent id, a grant of another kind and
// a claimed one-time identifier.
func revocationReader(t *testing.T, s grant.Store, now time.Time) {
	t.Helper()
	ctx := t.Context()
	r, ok := s.(grant.RevocationReader)
	if !ok {
		t.Fatalf("%T does not implement grant.RevocationReader", s)
	}
	revoked := grant.Grant{ID: grant.HashHandle("jti:revoked"), Kind: grant.KindRevocation, Created: now, Expires: now.Add(time.Minute), Revoked: now}
	expired := grant.Grant{ID: grant.HashHandle("jti:expired"), Kind: grant.KindRevocation, Created: now.Add(-2 * time.Minute), Expires: now.Add(-time.Minute), Revoked: now.Add(-2 * time.Minute)}
	code := Grant("code", now)
	once := grant.Grant{ID: grant.OnceID(grant.OnceDPoPProof, "jkt", "proof"), Kind: grant.KindJTI, Created: now, Expires: now.Add(time.Minute)}
	for _, g := range []grant.Grant{revoked, expired, code} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if err := grant.ClaimOnce(ctx, s, once); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, id string
		want     bool
	}{
		{"a revocation record", revoked.ID, true},
		{"an expired revocation record", expired.ID, true},
		{"an absent id", grant.HashHandle("jti:absent"), false},
		{"an authorization code", code.ID, false},
		{"a one-time identifier", once.ID, false},
	} {
		got, err := r.HasRevocation(ctx, c.id)
		if err != nil || got != c.want {
			t.Errorf("HasRevocation(%s) = %v, %v; want %v", c.name, got, err, c.want)
		}
		if fb, err := grant.HasRevocation(ctx, grantOnly{s}, c.id); err != nil || fb != got {
			t.Errorf("%s: through Grant %v, %v; HasRevocation %v", c.name, fb, err, got)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.HasRevocation(cancelled, revoked.ID); err == nil {
		t.Error("HasRevocation with a cancelled context: no error")
	}
}

// grantOnly hides every method of a store but grant.Store's, so
// grant.HasRevocation takes its fallback through Grant.
type grantOnly struct{ grant.Store }
