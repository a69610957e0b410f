package keystore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
)

// Errors of every store are its sentinels, so callers test them with
// errors.Is whatever the backend.
func Example() {
	var s keystore.Store = memstore.New()
	err := s.DeleteKey(context.Background(), "no-such-kid")
	fmt.Println(errors.Is(err, keystore.ErrNotFound))
	// Output: true
}
