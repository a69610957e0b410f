package granttest_test

import (
	"testing"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore/memstore"
)

// A grant store proves itself with the conformance suite, in its own
// TestXxx function.
func ExampleRun() {
	_ = func(t *testing.T) {
		granttest.Run(t, func(t *testing.T) grant.Store { return memstore.New() })
	}
}
