package sqlitestore

import (
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/mfa/mfatest"
)

// TestMFAStore: handles with their own connections stand for processes.
func TestMFAStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	mfatest.Run(t, open(t, path), open(t, path), open(t, path))
}
