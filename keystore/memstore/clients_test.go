package memstore

import (
	"testing"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/clientreg/regtest"
)

func TestClientRegistryConformance(t *testing.T) {
	regtest.Run(t, func(t *testing.T) func() clientreg.Store {
		s := New()
		return func() clientreg.Store { return s.ClientRegistry() }
	})
}
