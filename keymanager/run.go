package keymanager

import (
	"context"
	"encoding/binary"
	"io"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
)

// maxBackoff bounds the retry interval after a store error.
const maxBackoff = 30 * time.Second

// Run keeps the keys current until ctx is done, then returns ctx's error.
// It wakes at the plan's next event (a key activates, retires, expires or a
// successor is due; with a small random jitter so instances do not contend
// for the lock), polls a Revisioner store's change marker every
// PollInterval, reacts at once to a Watcher store's notifications, and
// reloads everything at least every keyCacheDuration. After a store error
// it retries with exponential backoff; the keys already loaded keep
// serving meanwhile.
func (m *Manager) Run(ctx context.Context) error {
	rev, isRev := m.store.(keystore.Revisioner)
	w, isWatcher := m.store.(keystore.Watcher)
	var notify <-chan struct{}
	var backoff time.Duration
	lastFull := m.now()
	for {
		if isWatcher && notify == nil {
			if ch, err := w.Watch(ctx); err == nil {
				notify = ch
			} else if ctx.Err() == nil {
				m.log.Warn("key store notifications unavailable; polling", "err", err)
			}
		}
		now := m.now()
		full := m.opts.EffectiveKeyCacheDuration()
		wait := lastFull.Add(full).Sub(now)
		if next := m.Next(); !next.IsZero() {
			wait = min(wait, next.Sub(now)+m.jitter())
		}
		if isRev {
			wait = min(wait, m.poll)
		}
		if backoff > 0 {
			wait = min(wait, backoff)
		}
		wait = max(wait, time.Millisecond)

		timer := time.NewTimer(wait)
		reload := false
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case _, ok := <-notify:
			timer.Stop()
			if !ok {
				notify = nil
			}
			reload = true
		case <-timer.C:
			now = m.now()
			switch {
			case backoff > 0, !now.Before(lastFull.Add(full)):
				reload = true
			case !m.Next().IsZero() && !now.Before(m.Next()):
				reload = true
			case isRev:
				r, err := rev.Revision(ctx)
				reload = err != nil || r != m.currentRevision()
			}
		}
		if !reload {
			if m.staticUsed.Load() {
				m.mu.Lock()
				m.recordMigrationLocked(ctx)
				m.mu.Unlock()
			}
			continue
		}
		if err := m.Reconcile(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			backoff = min(max(2*backoff, time.Second), maxBackoff, full)
			m.log.Warn("key reconcile failed; retrying", "err", err, "retry_in", backoff)
			continue
		}
		backoff = 0
		lastFull = m.now()
	}
}

func (m *Manager) currentRevision() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.revision
}

// jitter returns a random delay in [0, min(Lead/2, 1s)).
func (m *Manager) jitter() time.Duration {
	span := min(key.Lead(m.opts)/2, time.Second)
	if span <= 0 {
		return 0
	}
	var b [8]byte
	if _, err := io.ReadFull(m.rand, b[:]); err != nil {
		return 0
	}
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(span))
}
