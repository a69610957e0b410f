package grant_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore/memstore"
)

// countingStore counts DeleteExpired calls and can fail them.
type countingStore struct {
	grant.Store
	calls atomic.Int32
	fail  atomic.Bool
}

func (s *countingStore) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	s.calls.Add(1)
	if s.fail.Load() {
		return 0, errors.New("store down")
	}
	return s.Store.DeleteExpired(ctx, t)
}

func TestCleaner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		st := &countingStore{Store: memstore.New()}
		now := time.Now()
		mk := func(id string, expires time.Time) {
			if err := st.CreateGrant(ctx, grant.Grant{ID: id, Kind: grant.KindAuthorizationCode, Created: expires.Add(-time.Minute), Expires: expires}); err != nil {
				t.Fatal(err)
			}
		}
		mk("long-gone", now.Add(-2*time.Hour))
		mk("just-expired", now.Add(-time.Minute)) // within the grace: kept for replay detection
		mk("live", now.Add(time.Hour))

		c := &grant.Cleaner{Store: st, Interval: time.Minute, Grace: 10 * time.Minute}
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		synctest.Wait() // the first run happens at once
		if st.calls.Load() != 1 {
			t.Fatalf("%d runs at start", st.calls.Load())
		}
		for id, want := range map[string]bool{"long-gone": false, "just-expired": true, "live": true} {
			if _, err := st.Grant(ctx, id); (err == nil) != want {
				t.Errorf("%s: present %v, want %v", id, err == nil, want)
			}
		}
		// A failing run is retried at the next interval.
		st.fail.Store(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		st.fail.Store(false)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := st.calls.Load(); n != 12 {
			t.Fatalf("%d runs after 11 minutes, want 12", n)
		}
		if _, err := st.Grant(ctx, "just-expired"); !errors.Is(err, grant.ErrNotFound) {
			t.Errorf("just-expired survived past its grace: %v", err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
	})
}

// TestCleanerDefaultsRemoveCodesWithinMinutes: with the default interval
// and grace, an authorization code (a minute's lifetime) is gone from the
// store within ten minutes of its issue, not kept for an hour.
func TestCleanerDefaultsRemoveCodesWithinMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		st := memstore.New()
		issued := time.Now()
		code := grant.Grant{ID: "code", Kind: grant.KindAuthorizationCode, SessionID: "sid", Created: issued, Expires: issued.Add(time.Minute)}
		if err := st.CreateGrant(ctx, code); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- (&grant.Cleaner{Store: st}).Run(ctx) }()
		defer func() { cancel(); <-done }()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if _, err := st.Grant(ctx, code.ID); !errors.Is(err, grant.ErrNotFound) {
			t.Fatalf("an authorization code issued ten minutes ago is still stored: %v", err)
		}
		if grant.DefaultCleanGrace < 2*time.Minute {
			t.Fatalf("DefaultCleanGrace %s is too short to recognise a replay just after expiry", grant.DefaultCleanGrace)
		}
	})
}
