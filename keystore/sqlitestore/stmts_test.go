package sqlitestore

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/grant/granttest"
)

// rotations rotates the refresh token family fam from token first to
// first+n, reading each token before its rotation, as a refresh does.
func rotations(tb testing.TB, s *Store, fam string, first, n int, now time.Time) {
	tb.Helper()
	ctx := tb.Context()
	for i := first; i < first+n; i++ {
		if _, err := s.Grant(ctx, granttest.RefreshToken(fam, i, now).ID); err != nil {
			tb.Fatal(err)
		}
		if _, err := s.Rotate(ctx, granttest.RefreshToken(fam, i, now).ID, now, granttest.RefreshToken(fam, i+1, now)); err != nil {
			tb.Fatal(err)
		}
	}
}

// The statements of a refresh (the token's read, the rotation's update,
// insert and delete) are prepared once for the handle, not at every call:
// more refreshes prepare nothing more.
func TestTokenPathStatementsPrepared(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	now := time.Now()
	if err := s.CreateGrant(t.Context(), granttest.RefreshToken("fam-p", 0, now)); err != nil {
		t.Fatal(err)
	}
	rotations(t, s, "fam-p", 0, 5, now)
	s.cache.mu.Lock()
	first := s.cache.prepares
	s.cache.mu.Unlock()
	if first == 0 || first > 6 {
		t.Fatalf("5 refreshes prepared %d statements, want the 4 of a refresh (and the insert's)", first)
	}
	rotations(t, s, "fam-p", 5, 50, now)
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.prepares != first {
		t.Fatalf("50 more refreshes prepared %d more statements, want 0", s.cache.prepares-first)
	}
}

// BenchmarkRefreshStore is a refresh's store work: the token's read and
// its rotation (one transaction, one fsync).
func BenchmarkRefreshStore(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "signet.db"))
	now := time.Now()
	if err := s.CreateGrant(b.Context(), granttest.RefreshToken("fam-b", 0, now)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	rotations(b, s, "fam-b", 0, b.N, now)
}

// Concurrent readers do not make the handle close connections when they
// go idle (which would lose their prepared statements and parse the
// schema again on the next one).
func TestIdleConnectionsKept(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "signet.db"))
	now := time.Now()
	g := granttest.RefreshToken("fam-i", 0, now)
	if err := s.CreateGrant(t.Context(), g); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := s.Grant(t.Context(), g.ID); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if st := s.db.Stats(); st.MaxIdleClosed != 0 {
		t.Fatalf("%d connections closed as idle (stats %+v), want 0", st.MaxIdleClosed, st)
	}
}
