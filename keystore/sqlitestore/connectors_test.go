package sqlitestore

import (
	"path/filepath"
	"testing"

	connectorstoretest "github.com/signet-id/signet/connector/storetest"
)

func TestConnectorUsers(t *testing.T) {
	connectorstoretest.Run(t, open(t, filepath.Join(t.TempDir(), "signet.db")))
}
