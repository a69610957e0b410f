package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/userstore/userstoretest"
)

func TestUserConformance(t *testing.T) {
	userstoretest.Run(t, func(t *testing.T) userstoretest.Store {
		return open(t, filepath.Join(t.TempDir(), "signet.db"))
	})
}

// BenchmarkUserBySubject is the read every Active check makes (each use
// of a session, code, refresh token or userinfo by a store user).
func BenchmarkUserBySubject(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "signet.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(b.Context(), userstoretest.Record("alice", "u-1")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.UserBySubject(b.Context(), "u-1"); err != nil {
			b.Fatal(err)
		}
	}
}
