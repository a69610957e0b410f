package pgstore

import (
	"testing"

	"github.com/signet-id/signet/userstore/userstoretest"
)

func TestUserConformance(t *testing.T) {
	serverDSN(t)
	userstoretest.Run(t, func(t *testing.T) userstoretest.Store {
		_, dsn := newSchema(t)
		return open(t, dsn)
	})
}
