package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/clientreg/regtest"
)

func TestClientRegistryConformance(t *testing.T) {
	regtest.Run(t, func(t *testing.T) func() clientreg.Store {
		path := filepath.Join(t.TempDir(), "signet.db")
		return func() clientreg.Store { return open(t, path).ClientRegistry() }
	})
}
