package clientreg_test

import (
	"testing"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/clientreg/regtest"
)

func TestMemoryConformance(t *testing.T) {
	regtest.Run(t, func(t *testing.T) func() clientreg.Store {
		s := clientreg.NewMemory(nil)
		return func() clientreg.Store { return s }
	})
}
