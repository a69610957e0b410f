package memstore

import (
	"testing"

	"github.com/signet-id/signet/mfa/mfatest"
)

func TestMFAStore(t *testing.T) {
	mfatest.Run(t, New())
}
