package memstore_test

import (
	"testing"

	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/userstore/userstoretest"
)

func TestUserConformance(t *testing.T) {
	userstoretest.Run(t, func(t *testing.T) userstoretest.Store { return memstore.New() })
}
