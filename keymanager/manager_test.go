package keymanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
)

func TestStartCreatesFirstKeys(t *testing.T) {
	store := memstore.New()
	m := newManager(t, Config{Options: opts(key.ES256, key.EdDSA), Store: store, Now: newClock().Now})
	if err := m.Ready(); !errors.Is(err, ErrNotReady) {
		t.Fatalf("ready before start: %v", err)
	}
	start(t, m)
	if err := m.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := countKeys(t, store); got[key.ES256] != 1 || got[key.EdDSA] != 1 {
		t.Fatalf("stored keys %v", got)
	}
	if got := m.SigningAlgorithms(); !slices.Equal(got, []key.Algorithm{key.ES256, key.EdDSA}) {
		t.Fatalf("signing algorithms %v", got)
	}
	k, err := m.SigningKey(nil)
	if err != nil || k.Algorithm() != key.ES256 {
		t.Fatalf("default signing key %v %v, want the first configured algorithm", k, err)
	}
	recs, _ := store.Keys(context.Background())
	for _, r := range recs {
		if r.Protection != key.ProtectionAESGCM {
			t.Fatalf("key %s stored with protection %q", r.KID, r.Protection)
		}
	}
}

// A kid must be usable on the command line as it is: with the bytes 0xf8,
// a base64url kid would begin with '-' and read as a flag.
func TestKIDsAreHexAndNeverLookLikeFlags(t *testing.T) {
	store := memstore.New()
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: newClock().Now,
		Rand: bytes.NewReader(bytes.Repeat([]byte{0xf8}, 4096))})
	start(t, m)
	recs, err := store.Keys(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("stored keys %v %v", recs, err)
	}
	if kid := recs[0].KID; !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(kid) {
		t.Fatalf("kid %q, want 32 lowercase hex digits", kid)
	}
}

func TestSigningKeyPrecedence(t *testing.T) {
	static := staticKey(t, key.RS256, "static")
	m := newManager(t, Config{Options: opts(key.ES256, key.PS256), Store: memstore.New(), Static: static, Now: newClock().Now})
	start(t, m)
	cases := []struct {
		allowed []key.Algorithm
		want    key.Algorithm
		static  bool
		err     error
	}{
		{nil, key.RS256, true, nil},
		{[]key.Algorithm{key.RS256}, key.RS256, true, nil},
		{[]key.Algorithm{key.PS256, key.RS256}, key.RS256, true, nil}, // static first, whatever the list order
		{[]key.Algorithm{key.PS256}, key.PS256, false, nil},
		{[]key.Algorithm{key.PS256, key.ES256}, key.ES256, false, nil}, // configured order
		{[]key.Algorithm{key.EdDSA}, "", false, ErrNoAllowedAlgorithm},
	}
	for _, c := range cases {
		k, err := m.SigningKey(c.allowed)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Fatalf("%v: err %v, want %v", c.allowed, err, c.err)
			}
			continue
		}
		if err != nil || k.Algorithm() != c.want || (k.KID() == "static") != c.static {
			t.Fatalf("%v: got %v %v, want %s static=%v", c.allowed, k, err, c.want, c.static)
		}
	}
	if got := m.SigningAlgorithms(); !slices.Equal(got, []key.Algorithm{key.RS256, key.ES256, key.PS256}) {
		t.Fatalf("signing algorithms %v", got)
	}
}

func TestUnreadableKeysAreNeverReplaced(t *testing.T) {
	store := memstore.New()
	clk := newClock()
	a := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now, Sealer: testSealer(t, "secret A is long enough")})
	start(t, a)
	kid := a.Plan().Series[0].Signing

	// Another instance with a different secret.
	b := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now, Sealer: testSealer(t, "secret B is long enough")})
	if err := b.Start(context.Background()); err != nil {
		t.Fatalf("start must succeed and report not ready instead: %v", err)
	}
	err := b.Ready()
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), kid) || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("ready = %v; want not ready naming kid %s and the secret as likely cause", err, kid)
	}
	if _, err := b.SigningKey(nil); !errors.Is(err, ErrNotReady) {
		t.Fatalf("signing with an unreadable key: %v", err)
	}
	if n := countKeys(t, store)[key.ES256]; n != 1 {
		t.Fatalf("%d keys stored; a replacement was minted", n)
	}
	// Time passes to the successor: it is created (it does not sign at
	// once), and the unreadable key is kept.
	clk.Set(a.Plan().Next.Add(time.Minute))
	if err := b.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Keys(context.Background()); err != nil {
		t.Fatal(err)
	}
	infos := b.Keys()
	var found bool
	for _, ki := range infos {
		if ki.KID == kid {
			found = ki.Unreadable != nil
		}
	}
	if !found {
		t.Fatalf("the unreadable key is not reported in Keys(): %+v", infos)
	}
	// With the old secret listed second, everything reads again.
	c := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now,
		Sealer: testSealer(t, "secret B is long enough", "secret A is long enough")})
	start(t, c)
	if err := c.Ready(); err != nil {
		t.Fatalf("with both secrets: %v", err)
	}
}

func TestCorruptRecordReported(t *testing.T) {
	store := memstore.New()
	clk := newClock()
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now})
	start(t, m)
	recs, _ := store.Keys(context.Background())
	r := recs[0]
	r.PrivateKey[len(r.PrivateKey)-1] ^= 1
	if err := store.UpdateKey(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	m2 := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now})
	start(t, m2)
	if err := m2.Ready(); err == nil || !strings.Contains(err.Error(), r.KID) || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("ready = %v", err)
	}
	if n := countKeys(t, store)[key.ES256]; n != 1 {
		t.Fatalf("%d keys; the corrupt key must be kept and not replaced", n)
	}
}

func TestConcurrentInstancesCreateOneKey(t *testing.T) {
	for range 5 {
		store := memstore.New()
		clk := newClock()
		var wg sync.WaitGroup
		ms := make([]*Manager, 8)
		for i := range ms {
			ms[i] = newManager(t, Config{Options: opts(key.ES256, key.EdDSA), Store: store, Now: clk.Now})
			wg.Go(func() {
				if err := ms[i].Start(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := countKeys(t, store); got[key.ES256] != 1 || got[key.EdDSA] != 1 {
			t.Fatalf("instances created %v keys, want one per algorithm", got)
		}
		for _, m := range ms {
			m.Reconcile(context.Background())
			if string(m.JWKS().Body) != string(ms[0].JWKS().Body) {
				t.Fatal("instances publish different JWKS")
			}
		}
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	clk := newClock()
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now})
	start(t, m)
	first := m.Plan().Series[0].Signing
	// Move to where a successor is announced.
	clk.Set(m.Next())
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	pub := m.Plan().Series[0].Published
	if len(pub) != 2 {
		t.Fatalf("published %v", pub)
	}
	second := pub[1]
	if err := m.Revoke(ctx, first); err != nil {
		t.Fatal(err)
	}
	if got := publishedKIDs(t, m); !slices.Equal(got, []string{second}) {
		t.Fatalf("after revoke JWKS %v, want only %s", got, second)
	}
	k, err := m.SigningKey(nil)
	if err != nil || k.KID() != second {
		t.Fatalf("after revoking the signer, signing with %v %v; want the announced key %s", k, err, second)
	}
	// Revoking the last key: a new key signs at once.
	if err := m.Revoke(ctx, second); err != nil {
		t.Fatal(err)
	}
	k, err = m.SigningKey(nil)
	if err != nil || k.KID() == second || k.KID() == first {
		t.Fatalf("after revoking every key: %v %v", k, err)
	}
	if err := m.Revoke(ctx, "nope"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
	var revoked int
	for _, ki := range m.Keys() {
		if ki.State == key.StateRevoked {
			revoked++
		}
	}
	if revoked != 2 {
		t.Fatalf("%d keys listed as revoked, want 2 (kept until their DeleteAfter)", revoked)
	}
}

func TestRevokeStaticRefused(t *testing.T) {
	m := newManager(t, Config{Options: opts(key.ES256), Store: memstore.New(), Static: staticKey(t, key.ES256, "s"), Now: newClock().Now})
	start(t, m)
	if err := m.Revoke(context.Background(), "s"); !errors.Is(err, ErrStaticKey) {
		t.Fatalf("revoking the static credential: %v", err)
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := memstore.New()
	o := opts(key.ES256)
	m := newManager(t, Config{Options: o, Store: store, Now: clk.Now})
	start(t, m)
	first := m.Plan().Series[0].Signing
	clk.Add(key.Day)
	ki, err := m.Rotate(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if !ki.SignsFrom.Equal(clk.Now().Add(o.PropagationTime)) {
		t.Fatalf("rotated key signs from %s, want after propagation", ki.SignsFrom)
	}
	if k, _ := m.SigningKey(nil); k.KID() != first {
		t.Fatalf("rotation without --now switched the signer at once")
	}
	if _, err := m.Rotate(ctx, key.ES256, false); !errors.Is(err, ErrAlreadyAnnounced) {
		t.Fatalf("second rotation: %v", err)
	}
	clk.Set(ki.SignsFrom)
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if k, _ := m.SigningKey(nil); k.KID() != ki.KID {
		t.Fatalf("rotated key does not sign at its SignsFrom: %s", k.KID())
	}
	// --now: signs at once, the previous key is still published.
	now, err := m.Rotate(ctx, key.ES256, true)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := m.SigningKey(nil); k.KID() != now.KID {
		t.Fatalf("rotate --now: signing with %s, want %s", k.KID(), now.KID)
	}
	if !slices.Contains(publishedKIDs(t, m), ki.KID) {
		t.Fatal("the key replaced by rotate --now must stay published for retention")
	}
	// --now while a successor is announced: the announced key is withdrawn,
	// so a rotation never holds two keys.
	clk.Add(key.Day)
	announced, err := m.Rotate(ctx, key.ES256, false)
	if err != nil {
		t.Fatal(err)
	}
	forced, err := m.Rotate(ctx, key.ES256, true)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := m.SigningKey(nil); k.KID() != forced.KID {
		t.Fatalf("signing with %s, want %s", k.KID(), forced.KID)
	}
	if slices.Contains(publishedKIDs(t, m), announced.KID) || m.Plan().States[announced.KID] != key.StateRevoked {
		t.Fatalf("announced key %s still published after rotate --now", announced.KID)
	}
	if _, err := m.Rotate(ctx, key.RS512, false); !errors.Is(err, ErrConfig) {
		t.Fatalf("rotating an unconfigured algorithm: %v", err)
	}
}

func TestReseal(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	clk := newClock()
	m := newManager(t, Config{Options: opts(key.ES256, key.EdDSA), Store: store, Now: clk.Now, Sealer: testSealer(t, "the old secret, long enough")})
	start(t, m)
	both := newManager(t, Config{Options: opts(key.ES256, key.EdDSA), Store: store, Now: clk.Now,
		Sealer: testSealer(t, "the new secret, long enough", "the old secret, long enough")})
	start(t, both)
	res, err := both.Reseal(ctx)
	if err != nil || res.Resealed != 2 || res.Current != 0 {
		t.Fatalf("reseal = %+v, %v", res, err)
	}
	res, err = both.Reseal(ctx)
	if err != nil || res.Resealed != 0 || res.Current != 2 {
		t.Fatalf("second reseal = %+v, %v; want everything current", res, err)
	}
	onlyNew := newManager(t, Config{Options: opts(key.ES256, key.EdDSA), Store: store, Now: clk.Now, Sealer: testSealer(t, "the new secret, long enough")})
	start(t, onlyNew)
	if err := onlyNew.Ready(); err != nil {
		t.Fatalf("after reseal, the new secret alone must read every key: %v", err)
	}
	if k1, _ := m.SigningKey(nil); k1 == nil {
		t.Fatal("no key")
	}
}

func TestProtectionOffStoresPlainAndCanBeSealedLater(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	o := opts(key.ES256)
	o.ProtectKeys = false
	m := newManager(t, Config{Options: o, Store: store, Now: newClock().Now})
	start(t, m)
	recs, _ := store.Keys(ctx)
	if recs[0].Protection != key.ProtectionNone {
		t.Fatalf("protection %q", recs[0].Protection)
	}
	on := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: newClock().Now})
	start(t, on)
	if res, err := on.Reseal(ctx); err != nil || res.Resealed != 1 {
		t.Fatalf("sealing a plain key: %+v %v", res, err)
	}
	if _, err := New(Config{Options: opts(key.ES256), Store: store}); !errors.Is(err, ErrConfig) {
		t.Fatalf("protection on without a sealer: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	rsa := staticKey(t, key.RS256, "")
	bad := opts(key.ES256)
	bad.RotationInterval = time.Hour
	cases := map[string]Config{
		"invalid options":          {Options: bad, Store: memstore.New(), Sealer: testSealer(t)},
		"no store":                 {Options: opts(key.ES256), Sealer: testSealer(t)},
		"static alg mismatch":      {Options: opts(key.ES256), Store: memstore.New(), Sealer: testSealer(t), Static: &StaticKey{Algorithm: key.ES256, Signer: rsa.Signer}},
		"validation key duplicate": {Options: opts(key.ES256), Store: memstore.New(), Sealer: testSealer(t), Static: &StaticKey{KID: "x", Algorithm: key.RS256, Signer: rsa.Signer}, Validation: []StaticKey{{KID: "x", Algorithm: key.RS256, Public: rsa.Signer.Public()}}},
		"static without private":   {Options: opts(key.ES256), Store: memstore.New(), Sealer: testSealer(t), Static: &StaticKey{Algorithm: key.RS256, Public: rsa.Signer.Public()}},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A static kid defaults to the RFC 7638 thumbprint.
	m := newManager(t, Config{Options: opts(key.ES256), Store: memstore.New(), Static: &StaticKey{Algorithm: key.RS256, Signer: rsa.Signer}})
	start(t, m)
	if k, _ := m.SigningKey(nil); len(k.KID()) != 43 {
		t.Fatalf("static kid %q is not a SHA-256 thumbprint", k.KID())
	}
}

// flaky wraps a store and fails every call while down is set.
type flaky struct {
	keystore.Store
	mu   sync.Mutex
	down bool
}

func (f *flaky) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }
func (f *flaky) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return fmt.Errorf("test: %w", keystore.ErrUnavailable)
	}
	return nil
}
func (f *flaky) Keys(ctx context.Context) ([]key.Record, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Keys(ctx)
}
func (f *flaky) CreateKey(ctx context.Context, r key.Record) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.CreateKey(ctx, r)
}

func TestStoreOutageKeepsServingAndActivatesOnSchedule(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	store := &flaky{Store: memstore.New()}
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now})
	start(t, m)
	first := m.Plan().Series[0].Signing
	clk.Set(m.Next()) // successor due
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	pub := m.Plan().Series[0].Published
	second := pub[1]
	store.set(true)
	clk.Set(m.Next()) // handover time, during the outage
	if err := m.Reconcile(ctx); !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("reconcile during outage: %v", err)
	}
	k, err := m.SigningKey(nil)
	if err != nil || k.KID() != second {
		t.Fatalf("during the outage signing with %v %v; the announced key %s must activate on schedule", k, err, second)
	}
	if err := m.Ready(); err != nil {
		t.Fatalf("an outage alone must not make the manager unready (it keeps signing): %v", err)
	}
	if err := m.StoreError(); !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("store error during outage: %v", err)
	}
	if !slices.Contains(publishedKIDs(t, m), first) {
		t.Fatal("the retired key must stay published during the outage")
	}
	store.set(false)
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.StoreError(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if n := countKeys(t, store)[key.ES256]; n != 2 {
		t.Fatalf("%d keys after the outage, want 2 (no duplicates)", n)
	}
}

func TestJWKSSerializedOncePerChange(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	m := newManager(t, Config{Options: opts(key.ES256), Store: memstore.New(), Now: clk.Now,
		Validation: []StaticKey{{KID: "v", Algorithm: key.RS256, Public: staticKey(t, key.RS256, "").Signer.Public()}}})
	start(t, m)
	j1 := m.JWKS()
	clk.Add(time.Hour)
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if j2 := m.JWKS(); j2 != j1 {
		t.Fatal("JWKS re-serialized without a key change")
	}
	clk.Set(m.Next())
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	j3 := m.JWKS()
	if j3 == j1 || j3.ETag == j1.ETag {
		t.Fatal("JWKS or ETag unchanged after a new key was announced")
	}
	for _, member := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`} {
		if strings.Contains(string(j3.Body), member+":") {
			t.Fatalf("JWKS holds private member %s", member)
		}
	}
}

func TestX509Wrapping(t *testing.T) {
	o := opts()
	o.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.ES256, X509: true}, {Algorithm: key.EdDSA}}
	m := newManager(t, Config{Options: o, Store: memstore.New(), Now: newClock().Now})
	start(t, m)
	body := string(m.JWKS().Body)
	if strings.Count(body, `"x5c"`) != 1 || strings.Count(body, `"x5t"`) != 1 || strings.Count(body, `"x5t#S256"`) != 1 {
		t.Fatalf("x509 members: %s", body)
	}
}

func (f *flaky) Revision(ctx context.Context) (string, error) {
	if err := f.err(); err != nil {
		return "", err
	}
	return f.Store.(keystore.Revisioner).Revision(ctx)
}
