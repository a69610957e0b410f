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
// it retries with exponential backoff (1 s doubling to maxBackoff, no
// polling in between); the keys already loaded keep serving meanwhile and
// announced keys still activate on schedule. It logs one line when the
// store starts failing and one when it answers again; the retries in
// between are logged at Debug.
func (m *Manager) Run(ctx context.Context) error {
	rev, isRev := m.store.(keystore.Revisioner)
	w, isWatcher := m.store.(keystore.Watcher)
	var notify <-chan struct{}
	var (
		backoff      time.Duration
		retryAt      time.Time // with backoff: when the store is tried again
		failures     int       // failed attempts in a row
		failingSince time.Time
		watchFailed  bool
	)
	lastFull := m.now()
	for {
		if isWatcher && notify == nil && backoff == 0 {
			if ch, err := w.Watch(ctx); err == nil {
				notify = ch
				if watchFailed {
					m.log.Info("key store notifications available again")
					watchFailed = false
				}
			} else if ctx.Err() == nil && !watchFailed {
				m.log.Warn("key store notifications unavailable; polling", "err", err)
				watchFailed = true
			}
		}
		now := m.now()
		full := m.opts.EffectiveKeyCacheDuration()
		wait := lastFull.Add(full).Sub(now)
		if next := m.Next(); !next.IsZero() {
			wait = min(wait, next.Sub(now)+m.jitter())
		}
		if backoff > 0 {
			wait = min(wait, retryAt.Sub(now))
		} else if isRev {
			wait = min(wait, m.poll)
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
			case backoff > 0 && now.Before(retryAt):
				// A key's scheduled change during the backoff: publish
				// it from the keys held, without the store.
				m.mu.Lock()
				m.publishLocked()
				m.mu.Unlock()
				continue
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
			retryAt = m.now().Add(backoff)
			failures++
			if failures == 1 {
				failingSince = m.now()
				m.log.Error("key store failing: serving the keys already loaded, retrying with exponential backoff", "err", err, "retry_in", backoff)
			} else {
				m.log.Debug("key store still failing", "err", err, "attempt", failures, "retry_in", backoff)
			}
			continue
		}
		if failures > 0 {
			m.log.Info("key store answers again; keys reconciled", "failed_for", m.now().Sub(failingSince).Round(time.Second).String(), "attempts", failures)
		}
		failures, backoff = 0, 0
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
