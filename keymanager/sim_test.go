package keymanager

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/memstore"
)

// simulate drives a manager with a fake clock for the given span, waking
// as the Run loop would (at every planned event, and at least hourly),
// issuing a token every simulated hour and validating each token with two
// relying parties at issuance and again just before it expires.
func simulate(t *testing.T, o key.Options, span, tokenLifetime time.Duration) (tokens, kids int) {
	t.Helper()
	ctx := context.Background()
	clk := newClock()
	store := memstore.New()
	m := newManager(t, Config{Options: o, Store: store, Now: clk.Now})
	start(t, m)

	fetch := func() []byte { return m.JWKS().Body }
	rps := []*relyingParty{
		{name: "refresh-24h", refresh: 24 * time.Hour, fetch: fetch},
		{name: "refetch-on-unknown-kid", fetch: fetch},
	}
	type pending struct {
		token  string
		expiry time.Time
	}
	var queue []pending
	seen := map[string]bool{}
	end := t0.Add(span)
	nextToken := t0
	for now := t0; !now.After(end); {
		clk.Set(now)
		if err := m.Reconcile(ctx); err != nil {
			t.Fatalf("%s: reconcile: %v", now, err)
		}
		// At most 3 published keys per algorithm at every step.
		for _, s := range m.Plan().Series {
			if len(s.Published) > 3 {
				t.Fatalf("%s: %s publishes %d keys: %v", now, s.Algorithm, len(s.Published), s.Published)
			}
		}
		for _, s := range m.Plan().Series {
			for _, kid := range s.Published {
				seen[kid] = true
			}
		}
		// Re-validate tokens near the end of their lifetime.
		for len(queue) > 0 && !queue[0].expiry.After(now) {
			for _, rp := range rps {
				if err := rp.validate(queue[0].expiry, queue[0].token); err != nil {
					t.Fatalf("%s: token near expiry failed validation: %v", now, err)
				}
			}
			queue = queue[1:]
		}
		if !now.Before(nextToken) {
			for _, alg := range o.Algorithms() {
				k, err := m.SigningKey([]key.Algorithm{alg})
				if err != nil {
					t.Fatalf("%s: signing key for %s: %v", now, alg, err)
				}
				tok := sign(t, k, fmt.Sprintf(`{"iat":%d}`, now.Unix()))
				for _, rp := range rps {
					if err := rp.validate(now, tok); err != nil {
						t.Fatalf("%s: fresh token failed validation: %v", now, err)
					}
				}
				queue = append(queue, pending{tok, now.Add(tokenLifetime - time.Second)})
				tokens++
			}
			nextToken = nextToken.Add(time.Hour)
		}
		next := nextToken
		if n := m.Next(); !n.IsZero() && n.Before(next) {
			next = n
		}
		now = next
	}
	if err := m.Ready(); err != nil {
		t.Fatalf("not ready at the end: %v", err)
	}
	t.Logf("%d tokens, %d distinct published kids, refetches on unknown kid: %d", tokens, len(seen), rps[1].refetches)
	return tokens, len(seen)
}

func TestSimulationTwoYearsDefaults(t *testing.T) {
	t.Parallel()
	o := key.DefaultOptions() // RS256, 90d / 14d / 14d
	tokens, kids := simulate(t, o, 2*365*key.Day, time.Hour)
	if tokens < 2*365*24 {
		t.Fatalf("only %d tokens issued", tokens)
	}
	// One key, then a successor every 76 days: 10 keys in two years.
	if kids != 10 {
		t.Fatalf("%d keys published over two years, want 10", kids)
	}
}

func TestSimulationTwoYearsShortProfile(t *testing.T) {
	t.Parallel()
	o := opts(key.ES256, key.EdDSA)
	o.RotationInterval = 4 * key.Day
	o.PropagationTime = 36 * time.Hour // > the 24h relying-party cache
	o.RetentionDuration = 36 * time.Hour
	tokens, kids := simulate(t, o, 2*365*key.Day, 8*time.Hour)
	if tokens < 2*2*365*24 {
		t.Fatalf("only %d tokens issued", tokens)
	}
	// Per algorithm: one key, then one every 2.5 days.
	if want := 2 * (1 + int((2*365*key.Day-4*key.Day)/(60*time.Hour)) + 1); kids < want-2 || kids > want+2 {
		t.Fatalf("%d keys published, want about %d", kids, want)
	}
}

// TestSimulationMigration walks the seed's three phases across restarts
// (a new Manager on the same store each phase) and checks the published
// set is exactly the seed's list, with tokens of each phase still
// validating in the next.
func TestSimulationMigration(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := memstore.New()
	old := staticKey(t, key.RS256, "old-static")
	o := key.DefaultOptions()

	// Phase 0: static only (managed keys off).
	off := o
	off.Enabled = false
	m0 := newManager(t, Config{Options: off, Store: store, Now: clk.Now, Static: old})
	start(t, m0)
	if got := publishedKIDs(t, m0); !slices.Equal(got, []string{"old-static"}) {
		t.Fatalf("phase 0 JWKS %v", got)
	}
	k, _ := m0.SigningKey(nil)
	tok0 := sign(t, k, `{"phase":0}`)
	rp := &relyingParty{name: "rp", refresh: 24 * time.Hour, fetch: func() []byte { return m0.JWKS().Body }}
	if err := rp.validate(clk.Now(), tok0); err != nil {
		t.Fatal(err)
	}

	// Phase 1: managed keys on, static still signs; managed key announced.
	clk.Add(time.Hour)
	m1 := newManager(t, Config{Options: o, Store: store, Now: clk.Now, Static: old})
	start(t, m1)
	rp.fetch = func() []byte { return m1.JWKS().Body }
	managed := m1.Plan().Series[0].Published
	if len(managed) != 1 {
		t.Fatalf("phase 1: managed keys %v", managed)
	}
	if got, want := publishedKIDs(t, m1), []string{"old-static", managed[0]}; !slices.Equal(got, want) {
		t.Fatalf("phase 1 JWKS %v, want static + managed %v", got, want)
	}
	k, _ = m1.SigningKey(nil)
	if k.KID() != "old-static" {
		t.Fatalf("phase 1 signs with %s, want the static credential", k.KID())
	}
	tok1 := sign(t, k, `{"phase":1}`)
	clk.Add(StaticRecordInterval)
	if err := m1.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	mig, err := ReadMigration(ctx, store)
	if err != nil || !mig.ManagedAnnounced.Equal(t0.Add(time.Hour)) || !mig.StaticLastSigned.Equal(clk.Now()) || !mig.Phase2Started.IsZero() {
		t.Fatalf("phase 1 recorded %+v, %v", mig, err)
	}
	if err := rp.validate(clk.Now(), tok0); err != nil {
		t.Fatalf("phase 0 token in phase 1: %v", err)
	}

	// Wait for every client cache (24h), then phase 2: static becomes a
	// validation key, the managed key signs.
	clk.Add(25 * time.Hour)
	if err := rp.validate(clk.Now(), tok1); err != nil {
		t.Fatalf("phase 1 token: %v", err)
	}
	m2 := newManager(t, Config{Options: o, Store: store, Now: clk.Now,
		Validation: []StaticKey{{KID: "old-static", Algorithm: key.RS256, Public: old.Signer.Public()}}})
	start(t, m2)
	rp.fetch = func() []byte { return m2.JWKS().Body }
	if got, want := publishedKIDs(t, m2), []string{managed[0], "old-static"}; !slices.Equal(got, want) {
		t.Fatalf("phase 2 JWKS %v, want managed + old %v", got, want)
	}
	k, _ = m2.SigningKey(nil)
	if k.KID() != managed[0] {
		t.Fatalf("phase 2 signs with %s, want managed %s", k.KID(), managed[0])
	}
	tok2 := sign(t, k, `{"phase":2}`)
	if mig, _ := ReadMigration(ctx, store); !mig.Phase2Started.Equal(clk.Now()) {
		t.Fatalf("phase 2 start not recorded: %+v", mig)
	}
	if err := rp.validate(clk.Now(), tok1); err != nil {
		t.Fatalf("phase 1 token in phase 2 (within its lifetime): %v", err)
	}
	if err := rp.validate(clk.Now(), tok2); err != nil {
		t.Fatalf("phase 2 token: %v", err)
	}

	// Phase 3: the old key is dropped.
	clk.Add(2 * time.Hour)
	m3 := newManager(t, Config{Options: o, Store: store, Now: clk.Now})
	start(t, m3)
	rp.fetch = func() []byte { return m3.JWKS().Body }
	if got := publishedKIDs(t, m3); !slices.Equal(got, []string{managed[0]}) {
		t.Fatalf("phase 3 JWKS %v, want managed only", got)
	}
	if err := rp.validate(clk.Now(), tok2); err != nil {
		t.Fatalf("phase 2 token in phase 3: %v", err)
	}
	if n := countKeys(t, store)[key.RS256]; n != 1 {
		t.Fatalf("restarts created %d managed keys, want 1", n)
	}
}
