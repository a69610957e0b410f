package memstore_test

import (
	"context"
	"fmt"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
)

// An in-memory store for tests and single-process programs: keys live as
// long as the process.
func Example() {
	store := memstore.New()
	opts := key.DefaultOptions()
	opts.ProtectKeys = false // nothing leaves the process
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: store})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	recs, err := store.Keys(context.Background())
	fmt.Println(len(recs), err)
	// Output: 1 <nil>
}
