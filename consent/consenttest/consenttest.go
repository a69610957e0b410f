// Package consenttest is the conformance suite of consent.Store and
// consent.ActivityStore: every store of package keystore runs it.
package consenttest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/consent"
)

// Store is what the suite tests.
type Store interface {
	consent.Store
	consent.ActivityStore
}

// Run runs the suite. open returns n handles on one new, empty store (n
// processes sharing it; the same handle n times for a store in memory).
func Run(t *testing.T, open func(t *testing.T, n int) []Store) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	t.Run("Consents", func(t *testing.T) {
		st := open(t, 1)[0]
		ctx := t.Context()
		if _, err := st.Consent(ctx, "alice", "app"); !errors.Is(err, consent.ErrNotFound) {
			t.Fatalf("no record: %v, want ErrNotFound", err)
		}
		if err := st.SaveConsent(ctx, consent.Record{Subject: "alice", ClientID: "app", Granted: t0}); !errors.Is(err, consent.ErrInvalid) {
			t.Fatalf("no scopes: %v, want ErrInvalid", err)
		}
		save := func(sub, client string, at time.Time, scopes ...string) {
			t.Helper()
			if err := st.SaveConsent(ctx, consent.Record{Subject: sub, ClientID: client, Scopes: scopes, Granted: at}); err != nil {
				t.Fatal(err)
			}
		}
		save("alice", "app", t0, "profile", "openid", "profile")
		save("alice", "app", t0.Add(time.Minute), "openid", "profile", "email") // replaces
		save("alice", "wiki", t0, "openid")
		save("bob", "app", t0, "openid")
		r, err := st.Consent(ctx, "alice", "app")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Scopes, []string{"email", "openid", "profile"}) || !r.Granted.Equal(t0.Add(time.Minute)) || r.Granted.Location() != time.UTC {
			t.Fatalf("record %+v", r)
		}
		if !r.Covers([]string{"openid", "email"}) || r.Covers([]string{"openid", "phone"}) {
			t.Fatal("Covers")
		}
		all, err := st.Consents(ctx, "")
		if err != nil || len(all) != 3 || all[0].ClientID != "app" || all[1].ClientID != "wiki" || all[2].Subject != "bob" {
			t.Fatalf("all consents %+v %v", all, err)
		}
		mine, err := st.Consents(ctx, "alice")
		if err != nil || len(mine) != 2 {
			t.Fatalf("alice's consents %+v %v", mine, err)
		}
		if n, err := st.RevokeConsent(ctx, "alice", "app"); n != 1 || err != nil {
			t.Fatalf("revoke one: %d %v", n, err)
		}
		if _, err := st.Consent(ctx, "alice", "app"); !errors.Is(err, consent.ErrNotFound) {
			t.Fatalf("after revoke: %v", err)
		}
		if n, err := st.RevokeConsent(ctx, "alice", ""); n != 1 || err != nil {
			t.Fatalf("revoke all of alice's: %d %v", n, err)
		}
		if all, _ := st.Consents(ctx, ""); len(all) != 1 || all[0].Subject != "bob" {
			t.Fatalf("bob's consent must stay: %+v", all)
		}
	})
	t.Run("Activity", func(t *testing.T) {
		st := open(t, 1)[0]
		ctx := t.Context()
		idle := 10 * time.Minute
		touch := func(id string, at time.Time) bool {
			t.Helper()
			ok, err := st.TouchSession(ctx, id, at, idle)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !touch("s1", t0) || !touch("s1", t0.Add(9*time.Minute)) || !touch("s1", t0.Add(19*time.Minute)) {
			t.Fatal("a session used within the idle timeout must stay alive")
		}
		if touch("s1", t0.Add(29*time.Minute+time.Second)) {
			t.Fatal("a session idle for longer than the timeout must end")
		}
		if touch("s1", t0.Add(29*time.Minute+2*time.Second)) {
			t.Fatal("an idle session must not come back to life")
		}
		if !touch("s2", t0) {
			t.Fatal("a new session")
		}
		if n, err := st.ForgetSessions(ctx, t0.Add(time.Minute)); n != 1 || err != nil {
			t.Fatalf("forget: %d %v", n, err)
		}
	})
	t.Run("ActivityConcurrent", func(t *testing.T) {
		stores := open(t, 3)
		ctx := t.Context()
		idle := time.Minute
		if ok, err := stores[0].TouchSession(ctx, "s", t0, idle); !ok || err != nil {
			t.Fatal(ok, err)
		}
		// 30 calls from three handles, at an idle moment: none revives it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		alive := 0
		for i := range 30 {
			wg.Go(func() {
				ok, err := stores[i%3].TouchSession(ctx, "s", t0.Add(idle+time.Duration(i+1)*time.Second), idle)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					alive++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if alive != 0 {
			t.Fatalf("%d of 30 touches of an idle session succeeded", alive)
		}
	})
}
