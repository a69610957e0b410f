package pgstore

import (
	"testing"

	connectorstoretest "github.com/signet-id/signet/connector/storetest"
)

func TestConnectorUsers(t *testing.T) {
	serverDSN(t)
	_, dsn := newSchema(t)
	connectorstoretest.Run(t, open(t, dsn))
}
