package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/keystore/pgstore"
)

// TestBudgetsHoldAcrossInstances: three instances share one PostgreSQL
// schema; concurrent wrong passwords and wrong client secrets spread over
// them get one instance's budget verified, not three (the target is at
// most 1.5 times; the shared counter gives exactly 1 time).
func TestBudgetsHoldAcrossInstances(t *testing.T) {
	e := newClusterEnv(t, 3, nil, func(c *Config) {
		c.Users = []User{{Subject: aliceSub, Username: "alice", Password: slowSecret(t, alicePassword)}}
	})

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

// TestDPoPAcrossInstances: two instances share one PostgreSQL schema and
// the nonce secret. A nonce issued by one is accepted by the other; a
// proof used at one is refused at the other; the same proof sent to both
// concurrently gets exactly one token.
func TestDPoPAcrossInstances(t *testing.T) {
	e := newClusterEnv(t, 2, func(r *http.Request) int {
		i, _ := strconv.Atoi(r.Header.Get("X-Test-Instance"))
		return i
	}, func(c *Config) {
		c.DPoP = DPoP{RequireNonce: true, NonceSecret: []byte("the cluster's derived nonce key!")}
	})
	issuer := e.issuer
	p := e.newProver("ES256")
	at := func(instance int, proof string) page {
		req, _ := http.NewRequest("POST", issuer+PathToken, strings.NewReader(ccForm.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Instance", strconv.Itoa(instance))
		req.Header.Set("DPoP", proof)
		req.SetBasicAuth("poster", "poster-secret")
		return e.do(nil, req)
	}

	r := at(0, e.proof(p, "POST", PathToken, dpop.ProofOptions{}))
	e.oauthErr(r, 400, "use_dpop_nonce")
	nonce := r.Header.Get("DPoP-Nonce")
	proof := e.proof(p, "POST", PathToken, dpop.ProofOptions{Nonce: nonce})
	if r := at(1, proof); r.StatusCode != 200 {
		t.Fatalf("instance 1 with instance 0's nonce: %d %s", r.StatusCode, r.body)
	}
	e.oauthErr(at(0, proof), 400, "invalid_dpop_proof")

	proof = e.proof(p, "POST", PathToken, dpop.ProofOptions{Nonce: nonce})
	var wg sync.WaitGroup
	var ok, replayed atomic.Int32
	for i := range 16 {
		wg.Go(func() {
			switch r := at(i%2, proof); {
			case r.StatusCode == 200:
				ok.Add(1)
			case r.StatusCode == 400 && strings.Contains(r.body, "invalid_dpop_proof"):
				replayed.Add(1)
			default:
				t.Errorf("%d %s", r.StatusCode, r.body)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 15 {
		t.Fatalf("one proof sent 16 times to two instances: %d tokens, %d refused as replays", ok.Load(), replayed.Load())
	}
}

// newClusterEnv is a loginEnv whose listener serves n instances that share
// one PostgreSQL schema (grants and attempts), one key set and one clock.
// pick names the instance of each request (nil: round robin); mod adjusts
// every instance's Config.
func newClusterEnv(t *testing.T, n int, pick func(r *http.Request) int, mod func(*Config)) *loginEnv {
	t.Helper()
	dsn := postgresSchema(t)
	keys := newFakeKeys(t)
	clock := &testClock{t: testNow}
	if pick == nil {
		var next atomic.Int64
		pick = func(*http.Request) int { return int(next.Add(1)) % n }
	}
	var instances []*Server
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		instances[pick(r)].ServeHTTP(w, r)
	}))
	issuer := "http://" + ts.Listener.Addr().String()
	for range n {
		st, err := pgstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		clients, resources := loginClients(t)
		cfg := Config{Issuer: issuer, Keys: keys, Clients: clients, APIResources: resources, Grants: st, Now: clock.Now, Attempts: st}
		if mod != nil {
			mod(&cfg)
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, s)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return &loginEnv{t: t, ts: ts, keys: keys, clock: clock, issuer: issuer, logs: &lockedBuffer{}}
}
