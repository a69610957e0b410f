package cluster

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/internal/pgtest"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/pgstore"
)

// keysByAlg reads the store's records by algorithm.
func keysByAlg(t *testing.T, s *pgstore.Store) map[key.Algorithm][]key.Record {
	t.Helper()
	recs, err := s.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[key.Algorithm][]key.Record)
	for _, r := range recs {
		out[r.Algorithm] = append(out[r.Algorithm], r)
	}
	return out
}

// wantOneKeyPerAlgorithm fails unless the store holds exactly one key of
// each algorithm and nothing else, and returns their kids.
func wantOneKeyPerAlgorithm(t *testing.T, s *pgstore.Store, algs []key.Algorithm) map[key.Algorithm]string {
	t.Helper()
	by := keysByAlg(t, s)
	out := make(map[key.Algorithm]string)
	for _, alg := range algs {
		if len(by[alg]) != 1 {
			t.Errorf("%d %s keys in the store, want exactly 1: %v", len(by[alg]), alg, by[alg])
			continue
		}
		out[alg] = by[alg][0].KID
	}
	for alg := range by {
		if !slices.Contains(algs, alg) {
			t.Errorf("the store holds %s keys, an algorithm not configured", alg)
		}
	}
	return out
}

// jwksOfAll fetches the JWKS of every instance.
func jwksOfAll(ctx context.Context, ins []*instance) ([][]byte, error) {
	bodies := make([][]byte, len(ins))
	for i, in := range ins {
		b, err := in.jwks(ctx)
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	return bodies, nil
}

// identical reports whether every body equals the first.
func identical(bodies [][]byte) bool {
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			return false
		}
	}
	return true
}

// crossVerify gets a token of each algorithm from each instance and
// verifies it against the JWKS of every other instance (bodies, fetched
// before). It returns the kids that signed, by instance and algorithm.
func crossVerify(t *testing.T, ins []*instance, bodies [][]byte, algs []key.Algorithm) map[string]map[key.Algorithm]string {
	t.Helper()
	signed := make(map[string]map[key.Algorithm]string)
	for i, in := range ins {
		signed[in.name] = make(map[key.Algorithm]string)
		for _, alg := range algs {
			tok, err := in.token(t.Context(), alg)
			if err != nil {
				t.Error(err)
				continue
			}
			for j, other := range ins {
				if j == i {
					continue
				}
				kid, err := verifyToken(tok, bodies[j])
				if err != nil {
					t.Errorf("a %s token from %s does not validate against the JWKS of %s: %v", alg, in.name, other.name, err)
				}
				signed[in.name][alg] = kid
			}
		}
	}
	return signed
}

// lostRaceLog is what an instance logs when, holding the lock, it finds
// that another instance created the key it generated.
const lostRaceLog = `"msg":"another instance already created the key; discarding ours"`

// TestStartTogether starts three instances at the same moment against one
// empty schema, twenty times.
func TestStartTogether(t *testing.T) {
	needCluster(t)
	const runs, size = 20, 3
	algs := []key.Algorithm{key.ES256, key.EdDSA}
	cfg := writeConfig(t, clusterConfig{Algorithms: algs})
	sealer := testSealer(t)
	raced := 0 // runs in which an instance lost the creation race
	defer func() {
		t.Logf("%d of %d runs had an instance find the keys created by another after generating its own", raced, runs)
	}()
	for run := range runs {
		t.Run(fmt.Sprintf("run%02d", run+1), func(t *testing.T) {
			_, dsn := newSchema(t)
			ins := make([]*instance, size)
			for i := range ins {
				ins[i] = newInstance(t, fmt.Sprintf("instance-%d", i+1), cfg, pgtest.WithParams(t, dsn, "pool_max_conns", "3"))
			}
			startTogether(t, ins...)
			for _, in := range ins {
				in.waitReady(t)
			}

			store := openStore(t, dsn)
			stored := wantOneKeyPerAlgorithm(t, store, algs)
			if err := CheckConsistency(t.Context(), store, sealer); err != nil {
				t.Error(err)
			}
			bodies, err := jwksOfAll(t.Context(), ins)
			if err != nil {
				t.Fatal(err)
			}
			if !identical(bodies) {
				t.Fatalf("the instances publish different JWKS:\n%s", bytes.Join(bodies, []byte("\n")))
			}
			if got, want := kids(bodies[0]), slices.Sorted(maps.Values(stored)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Errorf("JWKS kids %v, want the stored keys %v", got, want)
			}
			for name, byAlg := range crossVerify(t, ins, bodies, algs) {
				for alg, kid := range byAlg {
					if kid != stored[alg] {
						t.Errorf("%s signed %s with %s, want the stored key %s", name, alg, kid, stored[alg])
					}
				}
			}
			for _, in := range ins {
				if strings.Contains(in.logs.String(), lostRaceLog) {
					raced++
					break
				}
			}
		})
	}
}

// waitFor polls cond every interval until it holds or timeout passes.
func waitFor(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// TestForcedRotationPropagates forces rotations with `signet keys rotate
// --now` (another process on the same store, as an operator would run it
// beside the instances) and requires every instance to publish the new
// key within a second of the command's start, and to sign with it.
func TestForcedRotationPropagates(t *testing.T) {
	needCluster(t)
	const bound, poll = time.Second, 50 * time.Millisecond
	algs := []key.Algorithm{key.ES256, key.EdDSA}
	_, dsn := newSchema(t)
	cfg := writeConfig(t, clusterConfig{Algorithms: algs})
	ins := make([]*instance, 3)
	for i := range ins {
		ins[i] = newInstance(t, fmt.Sprintf("instance-%d", i+1), cfg, pgtest.WithParams(t, dsn, "pool_max_conns", "3"))
	}
	startTogether(t, ins...)
	for _, in := range ins {
		in.waitReady(t)
	}
	store := openStore(t, dsn)
	ctx := t.Context()
	for round, alg := range []key.Algorithm{key.ES256, key.EdDSA, key.ES256, key.EdDSA} {
		before := keysByAlg(t, store)[alg]
		began := time.Now()
		if _, _, err := signet(ctx, dsn, "keys", "rotate", "--config", cfg, "--alg", string(alg), "--now"); err != nil {
			t.Fatal(err)
		}
		stored := time.Since(began)
		var info key.Record
		for _, r := range keysByAlg(t, store)[alg] {
			if !slices.ContainsFunc(before, func(b key.Record) bool { return b.KID == r.KID }) {
				info = r
			}
		}
		if info.KID == "" {
			t.Fatalf("rotation %d: keys rotate stored no new %s key", round+1, alg)
		}
		// When each instance publishes the new key, and when it signs
		// with it (zero: not yet). Rotate writes the new key and then
		// retires the old one, so an instance that reloads between the
		// two publishes the new key while the old one still signs.
		published := make([]time.Duration, len(ins))
		signing := make([]time.Duration, len(ins))
		waitFor(5*time.Second, poll, func() bool {
			done := true
			for i, in := range ins {
				if published[i] == 0 {
					if body, err := in.jwks(ctx); err == nil && slices.Contains(kids(body), info.KID) {
						published[i] = time.Since(began)
					}
				}
				if signing[i] == 0 {
					if tok, err := in.token(ctx, alg); err == nil && headerKID(tok) == info.KID {
						signing[i] = time.Since(began)
					}
				}
				done = done && published[i] > 0 && signing[i] > 0
			}
			return done
		})
		t.Logf("rotation %d (%s, new kid %s): keys rotate --now ran %v; published by the instances after %v, signing after %v (polled every %v)",
			round+1, alg, info.KID, stored.Round(time.Microsecond), round3(published), round3(signing), poll)
		for i := range ins {
			if published[i] == 0 || published[i] >= bound {
				t.Errorf("rotation %d: %s published the new %s key after %v, want within %v of the rotation (0: not within 5s)", round+1, ins[i].name, alg, published[i], bound)
			}
			if signing[i] == 0 || signing[i] >= bound {
				t.Errorf("rotation %d: %s signed with the new %s key after %v, want within %v of a rotation that takes effect now (0: not within 5s)", round+1, ins[i].name, alg, signing[i], bound)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		bodies, err := jwksOfAll(ctx, ins)
		if err != nil {
			t.Fatal(err)
		}
		if !identical(bodies) {
			t.Fatalf("rotation %d: the instances publish different JWKS:\n%s", round+1, bytes.Join(bodies, []byte("\n")))
		}
		for name, byAlg := range crossVerify(t, ins, bodies, []key.Algorithm{alg}) {
			if byAlg[alg] != info.KID {
				t.Errorf("rotation %d: %s signs %s with %s, want the new key %s", round+1, name, alg, byAlg[alg], info.KID)
			}
		}
	}
	if err := CheckConsistency(ctx, store, testSealer(t)); err != nil {
		t.Error(err)
	}
	for alg, rs := range keysByAlg(t, store) {
		if len(rs) != 3 {
			t.Errorf("%d %s keys in the store after two rotations, want 3", len(rs), alg)
		}
	}
}

// headerKID returns the kid of a token's header, unverified ("" if the
// token does not parse).
func headerKID(raw string) string {
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return ""
	}
	return tok.Headers[0].KeyID
}

func round3(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond / 10)
	}
	return out
}
