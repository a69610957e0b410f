package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signet-id/signet/keystore/sqlitestore"
)

// Open (creating) a SQLite key store; several processes on one host may
// share the file.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "signet-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	s, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "signet.db"))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	recs, err := s.Keys(context.Background())
	fmt.Println(len(recs), err)
	// Output: 0 <nil>
}
