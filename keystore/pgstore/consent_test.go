package pgstore

import (
	"testing"

	"github.com/signet-id/signet/consent/consenttest"
)

func TestConsentConformance(t *testing.T) {
	serverDSN(t)
	consenttest.Run(t, func(t *testing.T, n int) []consenttest.Store {
		_, dsn := newSchema(t)
		out := make([]consenttest.Store, n)
		for i := range out {
			out[i] = open(t, dsn)
		}
		return out
	})
}
