package periodic

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRunUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Run(ctx, time.Millisecond, func(context.Context) {
		if calls++; calls == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("Run: %v after %d calls, want Canceled after 3", err, calls)
	}
}
