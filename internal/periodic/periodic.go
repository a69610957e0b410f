// Package periodic runs background work at a fixed interval for as long
// as its context lives (the grant cleaner, the attempt sweeper).
package periodic

import (
	"context"
	"time"
)

// Run calls f at once, then again interval after each call returns,
// until ctx is done; it returns ctx's error. f reports its own failures.
func Run(ctx context.Context, interval time.Duration, f func(ctx context.Context)) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		f(ctx)
		t.Reset(interval)
	}
}
