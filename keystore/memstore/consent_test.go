package memstore_test

import (
	"testing"

	"github.com/signet-id/signet/consent/consenttest"
	"github.com/signet-id/signet/keystore/memstore"
)

func TestConsentConformance(t *testing.T) {
	consenttest.Run(t, func(t *testing.T, n int) []consenttest.Store {
		s := memstore.New()
		out := make([]consenttest.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	})
}
