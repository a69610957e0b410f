package cluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/pgtest"
	"github.com/signet-id/signet/key"
)

// Phases of the outage test.
const (
	phaseBefore = iota
	phaseOutage
	phaseAfter
	phases
)

var phaseNames = [phases]string{"before the outage", "during the outage", "after the outage"}

// traffic issues tokens from every instance and verifies each against the
// JWKS of every other instance, continuously, until stop.
type traffic struct {
	ins   []*instance
	algs  []key.Algorithm
	phase atomic.Int32
	stopc chan struct{}
	done  chan struct{}

	mu       sync.Mutex // guards the fields below
	issued   [phases][]int
	verified [phases]int
	failures []string
	// outageKIDs are the kids that signed tokens issued entirely within
	// the outage.
	outageKIDs map[string]int
}

func startTraffic(ins []*instance, algs []key.Algorithm) *traffic {
	tr := &traffic{ins: ins, algs: algs, stopc: make(chan struct{}), done: make(chan struct{}), outageKIDs: make(map[string]int)}
	for p := range tr.issued {
		tr.issued[p] = make([]int, len(ins))
	}
	go tr.run()
	return tr
}

func (tr *traffic) fail(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.failures = append(tr.failures, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

func (tr *traffic) run() {
	defer close(tr.done)
	ctx := context.Background()
	for round := 0; ; round++ {
		select {
		case <-tr.stopc:
			return
		default:
		}
		alg := tr.algs[round%len(tr.algs)]
		phase := tr.phase.Load()
		toks := make([]string, len(tr.ins))
		for i, in := range tr.ins {
			tok, err := in.token(ctx, alg)
			if err != nil {
				tr.fail("%s: %v", phaseNames[phase], err)
				continue
			}
			toks[i] = tok
			tr.mu.Lock()
			tr.issued[phase][i]++
			tr.mu.Unlock()
		}
		bodies := make([][]byte, len(tr.ins))
		for j, in := range tr.ins {
			body, err := in.jwks(ctx)
			if err != nil {
				tr.fail("%s: %v", phaseNames[phase], err)
			}
			bodies[j] = body
		}
		within := phase == phaseOutage && tr.phase.Load() == phaseOutage
		for i, tok := range toks {
			for j := range tr.ins {
				if j == i || tok == "" || bodies[j] == nil {
					continue
				}
				kid, err := verifyToken(tok, bodies[j])
				if err != nil {
					tr.fail("%s: a %s token from %s does not validate against the JWKS of %s: %v", phaseNames[phase], alg, tr.ins[i].name, tr.ins[j].name, err)
					continue
				}
				tr.mu.Lock()
				tr.verified[phase]++
				if within {
					tr.outageKIDs[kid]++
				}
				tr.mu.Unlock()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tr *traffic) stop() {
	close(tr.stopc)
	<-tr.done
}

// TestStoreOutage makes PostgreSQL unreachable for longer than a
// propagation time, in a second-scale configuration, while tokens are
// issued and verified continuously. The outage starts after a successor
// key is announced and ends after it was due to sign, so the instances
// must activate it from what they hold.
func TestStoreOutage(t *testing.T) {
	needCluster(t)
	algs := []key.Algorithm{key.ES256, key.EdDSA}
	c := clusterConfig{Algorithms: algs, RotationInterval: 6 * time.Second, PropagationTime: 2 * time.Second, RetentionDuration: 2 * time.Second}
	_, dsn := newSchema(t)
	px, proxied := viaProxy(t, dsn)
	cfg := writeConfig(t, c)
	ins := make([]*instance, 3)
	for i := range ins {
		// Second-long key lifetimes break the timing rules of real relying
		// parties (their JWKS caches): serve needs --unsafe-timing.
		ins[i] = newInstance(t, fmt.Sprintf("instance-%d", i+1), cfg, pgtest.WithParams(t, proxied, "pool_max_conns", "3"), "--unsafe-timing")
	}
	startTogether(t, ins...)
	for _, in := range ins {
		in.waitReady(t)
	}
	store := openStore(t, dsn) // the test's own view, around the proxy
	ctx := t.Context()
	tr := startTraffic(ins, algs)
	stopped := false
	defer func() {
		if !stopped {
			tr.stop()
		}
	}()

	// 1. Wait until every instance publishes a successor of each algorithm.
	successors := make(map[key.Algorithm]key.Record)
	if !waitFor(15*time.Second, 20*time.Millisecond, func() bool {
		recs, err := store.Keys(ctx)
		if err != nil {
			return false
		}
		now := time.Now()
		for _, r := range recs {
			if r.SignsFrom.After(now) {
				successors[r.Algorithm] = r
			}
		}
		if len(successors) != len(algs) {
			return false
		}
		bodies, err := jwksOfAll(ctx, ins)
		if err != nil || !identical(bodies) {
			return false
		}
		for _, r := range successors {
			if !slices.Contains(kids(bodies[0]), r.KID) {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("no successor published by every instance within 15s; successors in the store: %v", successors)
	}
	var activates time.Time // when the last successor signs
	for _, r := range successors {
		if r.SignsFrom.After(activates) {
			activates = r.SignsFrom
		}
	}
	if until := time.Until(activates); until < 500*time.Millisecond {
		t.Fatalf("the successors sign in %v: too soon to start the outage before they do", until)
	}

	// 2. The outage: longer than a propagation time, and past the moment
	// the successors sign.
	px.Cut()
	cutAt := time.Now()
	tr.phase.Store(phaseOutage)
	end := cutAt.Add(c.PropagationTime + time.Second)
	if a := activates.Add(500 * time.Millisecond); a.After(end) {
		end = a
	}
	t.Logf("outage from %s to %s; successors %v sign from %s", cutAt.Format("15:04:05.000"), end.Format("15:04:05.000"), kidsOf(successors), activates.Format("15:04:05.000"))
	reported := make([]string, len(ins)) // the /readyz body naming the outage
	last := make([]string, len(ins))
	waitFor(time.Until(end), 50*time.Millisecond, func() bool {
		all := true
		for i, in := range ins {
			if reported[i] != "" {
				continue
			}
			code, r, body, err := in.readyz(ctx)
			last[i] = fmt.Sprint(code, " ", body, " ", err)
			_, metrics, _ := in.getAt(ctx, in.admin, "/metrics")
			if err == nil && code == http.StatusOK && r.Status == "degraded" && strings.HasPrefix(r.Store, "unreachable: ") &&
				strings.Contains(string(metrics), "\nsignet_key_store_up 0\n") {
				reported[i] = body
			} else {
				all = false
			}
		}
		return all
	})
	for i, in := range ins {
		if reported[i] == "" {
			t.Errorf("%s: /readyz (200, status degraded, store unreachable) and signet_key_store_up 0 not seen during the outage; last /readyz: %s", in.name, last[i])
		}
	}
	t.Logf("/readyz during the outage: %s", reported[0])
	time.Sleep(time.Until(end))
	px.Restore()
	restoredAt := time.Now()
	tr.phase.Store(phaseAfter)

	// 3. Recovery: every instance answers with its store up, the next
	// successors are created (once), and the JWKS converge.
	var converged time.Duration
	var bodies [][]byte
	if !waitFor(30*time.Second, 50*time.Millisecond, func() bool {
		for _, in := range ins {
			code, r, _, err := in.readyz(ctx)
			if err != nil || code != http.StatusOK || r.Status != "ready" || r.Store != "ok" {
				return false
			}
		}
		var err error
		if bodies, err = jwksOfAll(ctx, ins); err != nil || !identical(bodies) {
			return false
		}
		converged = time.Since(restoredAt)
		recs, err := store.Keys(ctx)
		if err != nil {
			return false
		}
		created := 0
		for _, r := range recs {
			if r.Created.After(restoredAt) && slices.Contains(kids(bodies[0]), r.KID) {
				created++
			}
		}
		return created >= len(algs)
	}) {
		t.Fatalf("the cluster did not recover within 30s of the outage: JWKS identical %v", bodies != nil && identical(bodies))
	}
	t.Logf("the cluster converged %v after the outage, and published the next successors", converged.Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond) // traffic across the convergence
	tr.stop()
	stopped = true

	tr.mu.Lock()
	defer tr.mu.Unlock()
	t.Logf("tokens issued per instance %s: %v, %s: %v, %s: %v; verifications %v",
		phaseNames[0], tr.issued[0], phaseNames[1], tr.issued[1], phaseNames[2], tr.issued[2], tr.verified)
	if n := len(tr.failures); n > 0 {
		t.Errorf("%d failures while issuing and verifying tokens; the first:\n%s", n, strings.Join(tr.failures[:min(n, 10)], "\n"))
	}
	for i, in := range ins {
		if tr.issued[phaseOutage][i] == 0 {
			t.Errorf("%s issued no token during the outage", in.name)
		}
	}
	for alg, r := range successors {
		if tr.outageKIDs[r.KID] == 0 {
			t.Errorf("the %s successor %s, due to sign at %s, signed no token during the outage (kids seen: %v)", alg, r.KID, r.SignsFrom.Format("15:04:05.000"), tr.outageKIDs)
		}
	}
	if err := CheckConsistency(ctx, store, testSealer(t)); err != nil {
		t.Error(err)
	}
	for _, r := range successors {
		if !slices.Contains(kids(bodies[0]), r.KID) {
			t.Errorf("the successor %s is gone from the JWKS after the outage", r.KID)
		}
	}
}

func kidsOf(m map[key.Algorithm]key.Record) map[key.Algorithm]string {
	out := make(map[key.Algorithm]string, len(m))
	for alg, r := range m {
		out[alg] = r.KID
	}
	return out
}
