package throttle

import (
	"context"
	"log/slog"
	"time"

	"github.com/signet-id/signet/internal/periodic"
)

// DefaultSweepInterval is how often a Sweeper deletes ended windows.
const DefaultSweepInterval = 5 * time.Minute

// Expirer is a Store whose ended windows must be deleted (a database
// table); Memory drops them itself.
type Expirer interface {
	// DeleteExpiredAttempts deletes the keys whose window ended at or
	// before now and returns how many.
	DeleteExpiredAttempts(ctx context.Context, now time.Time) (int64, error)
}

// Sweeper deletes ended windows from a store periodically, so the rows of
// a sprayed budget leave the database once their window has passed.
// Several instances may each run one.
type Sweeper struct {
	Store Expirer
	// Interval between runs; zero means DefaultSweepInterval.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures; nil discards.
	Logger *slog.Logger
}

// Run sweeps at once, then every Interval, until ctx is done; it returns
// ctx's error. A failed run is logged and retried at the next interval.
func (s *Sweeper) Run(ctx context.Context) error {
	interval, now, log := s.Interval, s.Now, s.Logger
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
		if n, err := s.Store.DeleteExpiredAttempts(ctx, now()); err != nil && ctx.Err() == nil {
			log.Warn("deleting ended attempt windows failed; retrying at the next interval", "error", err, "interval", interval.String())
		} else if n > 0 {
			log.Debug("deleted ended attempt windows", "count", n)
		}
	})
}
