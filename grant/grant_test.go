package grant_test

import (
	"testing"
	"time"

	"github.com/signet-id/signet/grant"
)

// TestConsumeRefusal: revocation wins over consumption, which wins over
// expiry; now is compared in whole microseconds, as the SQL stores keep it.
func TestConsumeRefusal(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	base := grant.Grant{ID: grant.HashHandle("x"), Kind: grant.KindAuthorizationCode, ClientID: "app", Subject: "alice",
		Created: now.Add(-time.Minute), Expires: now}
	tests := []struct {
		name string
		edit func(*grant.Grant)
		at   time.Time
		want error
	}{
		{"consumable", func(*grant.Grant) {}, now.Add(-time.Microsecond), nil},
		{"half a microsecond before expiry", func(*grant.Grant) {}, now.Add(-500 * time.Nanosecond), nil},
		{"half a microsecond after expiry", func(*grant.Grant) {}, now.Add(500 * time.Nanosecond), grant.ErrExpired},
		{"expired", func(*grant.Grant) {}, now, grant.ErrExpired},
		{"consumed", func(g *grant.Grant) { g.Consumed = now.Add(-time.Second) }, now.Add(-time.Second), grant.ErrConsumed},
		{"revoked wins over consumed and expired", func(g *grant.Grant) { g.Consumed, g.Revoked = now, now }, now.Add(time.Hour), grant.ErrRevoked},
		{"consumed wins over expired", func(g *grant.Grant) { g.Consumed = now }, now.Add(time.Hour), grant.ErrConsumed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := base
			tc.edit(&g)
			if got := g.ConsumeRefusal(tc.at); got != tc.want {
				t.Errorf("ConsumeRefusal = %v, want %v", got, tc.want)
			}
		})
	}
}
