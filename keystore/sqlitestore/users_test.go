package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/userstore/userstoretest"
)

func TestUserConformance(t *testing.T) {
	userstoretest.Run(t, func(t *testing.T) userstoretest.Store {
		return open(t, filepath.Join(t.TempDir(), "signet.db"))
	})
}
