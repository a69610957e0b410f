package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/consent/consenttest"
)

func TestConsentConformance(t *testing.T) {
	consenttest.Run(t, func(t *testing.T, n int) []consenttest.Store {
		path := filepath.Join(t.TempDir(), "signet.db")
		out := make([]consenttest.Store, n)
		for i := range out {
			out[i] = open(t, path)
		}
		return out
	})
}
