package pgstore_test

import (
	"context"
	"os"

	"github.com/signet-id/signet/keystore/pgstore"
)

// Open the PostgreSQL key store shared by a cluster of instances; it
// creates its tables on first use.
func ExampleOpen() {
	s, err := pgstore.Open(context.Background(), os.Getenv("SIGNET_POSTGRES_DSN"))
	if err != nil {
		return // e.g. postgres://signet@db.example.com/signet
	}
	defer s.Close()
}
