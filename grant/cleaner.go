package grant

import (
	"context"
	"log/slog"
	"time"

	"github.com/signet-id/signet/internal/periodic"
)

// Defaults of [Cleaner]: an authorization code (a minute's lifetime)
// leaves the store at most Grace + Interval after it expired, about seven
// minutes after it was issued.
const (
	// DefaultCleanInterval is short because a run is one indexed range
	// delete, and expired codes should not pile up for long.
	DefaultCleanInterval = time.Minute
	// DefaultCleanGrace keeps a grant for a while after it expired, so a
	// replayed authorization code is still recognised (and the tokens it
	// issued revoked) rather than reported as unknown, and instances whose
	// clocks differ a little agree on what is expired.
	DefaultCleanGrace = 5 * time.Minute
)

// Cleaner deletes expired grants from a Store periodically. Several
// instances sharing a store may each run one: deleting is idempotent.
type Cleaner struct {
	// Store is cleaned. Required.
	Store Store
	// Interval between runs; zero means DefaultCleanInterval.
	Interval time.Duration
	// Grace is how long after expiry a grant is kept; zero means
	// DefaultCleanGrace.
	Grace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives what each run deleted and failures; nil discards.
	Logger *slog.Logger
}

// Run cleans at once, then every Interval, until ctx is done; it returns
// ctx's error. A failed run is logged and retried at the next interval.
func (c *Cleaner) Run(ctx context.Context) error {
	interval, grace, now, log := c.Interval, c.Grace, c.Now, c.Logger
	if interval <= 0 {
		interval = DefaultCleanInterval
	}
	if grace <= 0 {
		grace = DefaultCleanGrace
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return periodic.Run(ctx, interval, func(ctx context.Context) {
		n, err := c.Store.DeleteExpired(ctx, now().Add(-grace))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("deleting expired grants failed; retrying at the next interval", "error", err, "interval", interval.String())
		case n > 0:
			log.Info("deleted expired grants", "count", n)
		}
	})
}
