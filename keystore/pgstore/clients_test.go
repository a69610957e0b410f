package pgstore

import (
	"testing"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/clientreg/regtest"
)

func TestClientRegistryConformance(t *testing.T) {
	serverDSN(t)
	regtest.Run(t, func(t *testing.T) func() clientreg.Store {
		_, dsn := newSchema(t)
		return func() clientreg.Store { return open(t, dsn).ClientRegistry() }
	})
}
