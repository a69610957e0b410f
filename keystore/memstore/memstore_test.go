package memstore_test

import (
	"testing"

	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/storetest"
)

// A memstore has no storage beyond the value: every "handle" is the same
// Store, as in-process instances sharing one Store would use it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() keystore.Store {
		s := memstore.New()
		return func() keystore.Store { return s }
	})
}
