package filestore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/signet-id/signet/keystore/filestore"
)

// Open (creating) a file key store: one JSON file per key in a
// directory (YAML keyManagement.keyPath).
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "signet-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	s, err := filestore.Open(dir)
	if err != nil {
		panic(err)
	}
	recs, err := s.Keys(context.Background())
	fmt.Println(len(recs), err)
	// Output: 0 <nil>
}
