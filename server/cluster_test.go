package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signet-id/signet/keystore/pgstore"
)

// TestBudgetsHoldAcrossInstances: three instances share one PostgreSQL
// schema; concurrent wrong passwords and wrong client secrets spread over
// them get one instance's budget verified, not three (the target is at
// most 1.5 times; the shared counter gives exactly 1 time).
func TestBudgetsHoldAcrossInstances(t *testing.T) {
	dsn := postgresSchema(t)
	keys := newFakeKeys(t)
	clock := &testClock{t: testNow}
	var next atomic.Int64
	var instances []*Server
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		instances[int(next.Add(1))%len(instances)].ServeHTTP(w, r) // round robin
	}))
	issuer := "http://" + ts.Listener.Addr().String()
	for range 3 {
		st, err := pgstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		clients, resources := loginClients(t)
		s, err := New(Config{Issuer: issuer, Keys: keys, Clients: clients, APIResources: resources, Grants: st,
			Users: []User{{Subject: aliceSub, Username: "alice", Password: slowSecret(t, alicePassword)}},
			Now:   clock.Now, Attempts: st})
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, s)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	e := &loginEnv{t: t, ts: ts, keys: keys, clock: clock, issuer: issuer, logs: &lockedBuffer{}}

	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	got := concurrentLogins(b, lp.body, 45, func(int) string { return "alice" }, "wrong")
	if got[200] > userFailures*3/2 || got[200]+got[429] != 45 {
		t.Fatalf("45 wrong passwords over 3 instances: %v; at most %d may be verified", got, userFailures*3/2)
	}
	t.Logf("login: %d of 45 verified over 3 instances (one instance's budget: %d)", got[200], userFailures)
	if p := b.submitLogin(lp.body, "alice", alicePassword); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after the burst: %d", p.StatusCode)
	}

	perPair := DefaultLimits().ClientPerClientAndAddress.Max
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			p := e.clientCall(PathToken, "web", "wrong"+strconv.Itoa(i), url.Values{"grant_type": {"client_credentials"}})
			mu.Lock()
			codes[p.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[401] > perPair*3/2 || codes[401]+codes[429] != 60 {
		t.Fatalf("60 wrong client secrets over 3 instances: %v; at most %d may be verified", codes, perPair*3/2)
	}
	t.Logf("client authentication: %d of 60 verified over 3 instances (one instance's budget: %d)", codes[401], perPair)
}
