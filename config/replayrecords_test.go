package config

import (
	"strings"
	"testing"
)

// storage.durableReplayRecords: off by default, set for sqlite and
// postgres, refused with the drivers that have no database.
func TestDurableReplayRecords(t *testing.T) {
	if c := mustParse(t, "issuer: https://a.example\n", nil); c.Storage.DurableReplayRecords {
		t.Error("durableReplayRecords is on by default")
	}
	for _, doc := range []string{
		"issuer: https://a.example\nstorage: { driver: sqlite, durableReplayRecords: true }\n",
		"issuer: https://a.example\nstorage: { driver: postgres, dsn: postgres://db.example/signet, durableReplayRecords: true }\nkeyManagement: { protection: { enabled: false } }\n",
	} {
		if c := mustParse(t, doc, nil); !c.Storage.DurableReplayRecords {
			t.Errorf("%q: durableReplayRecords not set", doc)
		}
	}
	_, err := parse(t, "issuer: https://a.example\nstorage: { driver: memory, durableReplayRecords: true }\n", nil)
	if err == nil || !strings.Contains(err.Error(), "storage.durableReplayRecords: is a setting of the sqlite and postgres drivers") {
		t.Fatalf("memory with durableReplayRecords: %v", err)
	}
}
