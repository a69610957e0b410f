package storetest_test

import (
	"testing"

	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/storetest"
)

// A key store proves itself with the conformance suite, in its own
// TestXxx function; a store without a second handle returns the same
// value from open.
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) func() keystore.Store {
			s := memstore.New()
			return func() keystore.Store { return s }
		})
	}
}
