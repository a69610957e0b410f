package pgstore

import (
	"testing"

	"github.com/signet-id/signet/mfa/mfatest"
)

// TestMFAStore: stores with their own pools stand for instances.
func TestMFAStore(t *testing.T) {
	_, dsn := newSchema(t)
	mfatest.Run(t, open(t, dsn), open(t, dsn), open(t, dsn))
}
