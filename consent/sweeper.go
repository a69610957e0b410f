package consent

import (
	"context"
	"log/slog"
	"time"

	"github.com/signet-id/signet/internal/periodic"
)

// DefaultSweepInterval is how often an ActivitySweeper runs.
const DefaultSweepInterval = 10 * time.Minute

// ActivitySweeper deletes the activity records of login sessions that
// ended (last used more than Keep ago: a session lives at most its
// lifetime), so the table holds about one row per live session. Several
// instances sharing a store may each run one.
type ActivitySweeper struct {
	// Store is swept. Required.
	Store ActivityStore
	// Keep is how long after its last use a record is kept: the session
	// lifetime (a record younger than that may belong to a live session,
	// whose idleness it proves). Required.
	Keep time.Duration
	// Interval between runs; zero means DefaultSweepInterval.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures; nil discards.
	Logger *slog.Logger
}

// Run sweeps at once, then every Interval, until ctx is done; it returns
// ctx's error. A failed run is logged and retried at the next interval.
func (w *ActivitySweeper) Run(ctx context.Context) error {
	interval, now, log := w.Interval, w.Now, w.Logger
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return periodic.Run(ctx, interval, func(ctx context.Context) {
		if _, err := w.Store.ForgetSessions(ctx, now().Add(-w.Keep)); err != nil && ctx.Err() == nil {
			log.Warn("deleting the activity of ended login sessions failed; retrying at the next interval", "error", err, "interval", interval.String())
		}
	})
}
