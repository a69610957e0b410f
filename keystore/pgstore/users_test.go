package pgstore

import (
	"testing"

	"github.com/signet-id/signet/userstore/userstoretest"
)

func TestUserConformance(t *testing.T) {
	serverDSN(t)
	userstoretest.Run(t, func(t *testing.T) userstoretest.Store {
		_, dsn := newSchema(t)
		return open(t, dsn)
	})
}

// BenchmarkUserBySubject is the read every Active check makes (each use
// of a session, code, refresh token or userinfo by a store user).
func BenchmarkUserBySubject(b *testing.B) {
	_, dsn := newSchema(b)
	s := open(b, dsn)
	if err := s.CreateUser(b.Context(), userstoretest.Record("alice", "u-1")); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.UserBySubject(b.Context(), "u-1"); err != nil {
			b.Fatal(err)
		}
	}
}
