package consent_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/signet-id/signet/consent"
	"github.com/signet-id/signet/keystore/memstore"
)

// TestActivitySweeper: records of sessions past their lifetime go; a
// record that may still prove a live session idle stays.
func TestActivitySweeper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		st := memstore.New()
		now := time.Now()
		for id, at := range map[string]time.Time{"ended": now.Add(-11 * time.Hour), "idle": now.Add(-2 * time.Hour), "live": now} {
			if _, err := st.TouchSession(ctx, id, at, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan error, 1)
		go func() { done <- (&consent.ActivitySweeper{Store: st, Keep: 10 * time.Hour}).Run(ctx) }()
		synctest.Wait()
		// "idle" is still idle (not revived: its record stayed).
		if ok, _ := st.TouchSession(ctx, "idle", time.Now(), time.Hour); ok {
			t.Fatal("the sweeper deleted the record of a session within its lifetime")
		}
		if n, _ := st.ForgetSessions(ctx, now.Add(-10*time.Hour)); n != 0 {
			t.Fatalf("%d records older than the lifetime survived the sweep", n)
		}
		time.Sleep(9 * time.Hour) // "idle" passes the lifetime: gone at a later run
		synctest.Wait()
		if ok, _ := st.TouchSession(ctx, "idle", time.Now(), time.Hour); !ok {
			t.Fatal("an ended session's record was not swept")
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
	})
}
