package keymanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/keystore"
)

// Names of the migration advisor's values in a keystore.MetaStore.
const (
	// MetaManagedAnnounced: when managed keys were first published while a
	// static signing credential was signing (phase 1 began).
	MetaManagedAnnounced = "migration.managedAnnouncedWhileStatic"
	// MetaStaticLastSigned: the last time the static signing credential
	// was handed out to sign a token (to the store's recording interval).
	MetaStaticLastSigned = "migration.staticLastSigned"
	// MetaPhase2Started: when the manager first ran with managed keys
	// signing and the old key configured as a validation key.
	MetaPhase2Started = "migration.phase2Started"
	// MetaPhase3Started: when the manager first ran with managed keys only
	// after a migration (phase 1 or 2 recorded).
	MetaPhase3Started = "migration.phase3Started"
)

// StaticRecordInterval is how often, at most, the static credential's last
// use is written to the store: the advisor adds it to its safe times.
const StaticRecordInterval = time.Minute

// recordMigrationLocked writes the advisor's timestamps to a MetaStore:
// the start of phase 1 once, and the static credential's last use when it
// was used since the last call. Failures are logged, not fatal.
func (m *Manager) recordMigrationLocked(ctx context.Context) {
	ms, ok := m.store.(keystore.MetaStore)
	if !ok {
		return
	}
	now := m.now().UTC()
	if now.Sub(m.staticRecorded) >= StaticRecordInterval && m.staticUsed.Swap(false) {
		if err := ms.SetMeta(ctx, MetaStaticLastSigned, now.Format(time.RFC3339Nano)); err != nil {
			m.staticUsed.Store(true) // try again next time
			m.log.Warn("recording the static credential's last use failed", "err", err)
		} else {
			m.staticRecorded = now
		}
	}
	if !m.opts.Enabled || m.storeErr != nil {
		return
	}
	if m.static == nil {
		if len(m.valid) > 0 {
			m.setOnce(ctx, ms, MetaPhase2Started, now, "migration phase 2: managed keys sign, the old key is a validation key")
		} else if !m.phase3Checked {
			// Once per process: the phase changes only with the
			// configuration, which needs a restart.
			m.phase3Checked = true
			if m.migrationRecorded(ctx, ms) {
				m.setOnce(ctx, ms, MetaPhase3Started, now, "migration phase 3: managed keys only, the old key is no longer published")
			}
		}
		return
	}
	published := false
	if s := m.snap.Load(); s != nil {
		for _, ser := range s.plan.Series {
			published = published || (ser.Configured && len(ser.Published) > 0)
		}
	}
	if !published {
		return
	}
	m.setOnce(ctx, ms, MetaManagedAnnounced, now, "migration phase 1: managed keys announced while the static credential signs")
}

// migrationRecorded reports whether phase 1 or 2 of a migration was
// recorded in the store.
func (m *Manager) migrationRecorded(ctx context.Context, ms keystore.MetaStore) bool {
	for _, name := range []string{MetaManagedAnnounced, MetaPhase2Started} {
		if _, err := ms.Meta(ctx, name); err == nil {
			return true
		}
	}
	return false
}

// setOnce writes name=now unless name is already set.
func (m *Manager) setOnce(ctx context.Context, ms keystore.MetaStore, name string, now time.Time, msg string) {
	if _, err := ms.Meta(ctx, name); !errors.Is(err, keystore.ErrNotFound) {
		return
	}
	if err := ms.SetMeta(ctx, name, now.Format(time.RFC3339Nano)); err != nil {
		m.log.Warn("recording the migration's progress failed", "name", name, "err", err)
		return
	}
	m.log.Info(msg)
}

// Migration holds the advisor's timestamps (zero when unset).
type Migration struct {
	ManagedAnnounced time.Time
	StaticLastSigned time.Time
	Phase2Started    time.Time
}

// ReadMigration returns the advisor's timestamps from a store (zero when
// unset or when the store keeps no metadata).
func ReadMigration(ctx context.Context, s keystore.Store) (Migration, error) {
	var mig Migration
	ms, ok := s.(keystore.MetaStore)
	if !ok {
		return mig, nil
	}
	read := func(name string) (time.Time, error) {
		v, err := ms.Meta(ctx, name)
		if errors.Is(err, keystore.ErrNotFound) {
			return time.Time{}, nil
		}
		if err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("keymanager: stored %s %q is not a time: %w", name, v, err)
		}
		return t, nil
	}
	var err error
	if mig.ManagedAnnounced, err = read(MetaManagedAnnounced); err != nil {
		return mig, err
	}
	if mig.StaticLastSigned, err = read(MetaStaticLastSigned); err != nil {
		return mig, err
	}
	mig.Phase2Started, err = read(MetaPhase2Started)
	return mig, err
}
