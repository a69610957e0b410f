package connector_test

import (
	"testing"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/connector/storetest"
)

func TestMemoryStore(t *testing.T) { storetest.Run(t, connector.NewMemoryStore()) }
