package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/grant"
)

// BenchmarkRevocationRead is the revocation check of an introspection or a
// userinfo call for a token that was not revoked (nearly all): before,
// Grant (the grants table, then once_ids); now, HasRevocation (grants
// only, a request's cancellable context, which HasRevocation does not
// hand to the driver). -benchmem gives the allocations of each.
func BenchmarkRevocationRead(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "signet.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	id := grant.HashHandle("jti:not-revoked")
	b.Run("Grant", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Grant(b.Context(), id); err == nil {
				b.Fatal("found")
			}
		}
	})
	b.Run("HasRevocation", func(b *testing.B) {
		for b.Loop() {
			if yes, err := s.HasRevocation(b.Context(), id); err != nil || yes {
				b.Fatal(yes, err)
			}
		}
	})

}
