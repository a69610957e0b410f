package memstore_test

import (
	"testing"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/keystore/memstore"
)

func TestGrantConformance(t *testing.T) {
	granttest.Run(t, func(t *testing.T) grant.Store { return memstore.New() })
}

func BenchmarkUseOnce(b *testing.B) { granttest.BenchmarkUseOnce(b, memstore.New()) }
