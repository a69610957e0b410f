package keymanager

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keybackend/backendtest"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
)

// checkNoPrivateMaterial fails unless every stored record of typ holds a
// backend reference with public material only.
func checkNoPrivateMaterial(t *testing.T, s keystore.Store, typ string) map[string]keybackend.Ref {
	t.Helper()
	recs, err := s.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]keybackend.Ref{}
	for _, r := range recs {
		if r.Protection != typ || r.Backend() != typ {
			t.Fatalf("record %s: protection %q; want %q", r.KID, r.Protection, typ)
		}
		if _, err := x509.ParsePKCS8PrivateKey(r.PrivateKey); err == nil {
			t.Fatalf("record %s holds a private key", r.KID)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r.PrivateKey, &fields); err != nil {
			t.Fatalf("record %s: reference is not JSON: %v", r.KID, err)
		}
		for f := range fields {
			if !slices.Contains([]string{"backend", "id", "label", "region", "public"}, f) {
				t.Fatalf("record %s: reference has field %q; only backend, id, label, region and public are allowed", r.KID, f)
			}
		}
		ref, err := keybackend.DecodeRef(r.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ref.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := jwk.CheckAlgorithm(r.Algorithm, pub); err != nil {
			t.Fatal(err)
		}
		refs[r.KID] = ref
	}
	return refs
}

// TestBackendKeyLifecycle runs a backend's keys through the whole
// lifecycle with the same planner as software keys: created in the
// backend, signing through it, rotated, retired, and deleted after
// deleteAfter, when the backend object is destroyed too. No protection
// secret is configured: backend keys need none.
func TestBackendKeyLifecycle(t *testing.T) {
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			b := backendtest.Open(t, typ)
			ctx := context.Background()
			clk := newClock()
			store := memstore.New()
			o := opts(key.ES256, key.PS256)
			o.SigningAlgorithms[0].X509 = true // certificates signed inside the backend
			m, err := New(Config{Options: o, Store: store, Now: clk.Now, KeyBackend: b})
			if err != nil {
				t.Fatal(err)
			}
			start(t, m)
			rp := &relyingParty{name: "refetch-on-unknown-kid", fetch: func() []byte { return m.JWKS().Body }}
			everRef := map[string]keybackend.Ref{}
			for day := 0; day <= 250; day++ {
				clk.Set(t0.Add(time.Duration(day) * 24 * time.Hour))
				if err := m.Reconcile(ctx); err != nil {
					t.Fatalf("day %d: %v", day, err)
				}
				if err := m.Ready(); err != nil {
					t.Fatalf("day %d: %v", day, err)
				}
				for _, alg := range o.Algorithms() {
					k, err := m.SigningKey([]key.Algorithm{alg})
					if err != nil {
						t.Fatal(err)
					}
					if err := rp.validate(clk.Now(), sign(t, k, `{"sub":"x"}`)); err != nil {
						t.Fatalf("day %d: %v", day, err)
					}
				}
				for kid, ref := range checkNoPrivateMaterial(t, store, typ) {
					everRef[kid] = ref
				}
			}
			if !strings.Contains(string(m.JWKS().Body), `"x5c"`) {
				t.Error("the ES256 backend keys publish no certificate")
			}
			recs, _ := store.Keys(ctx)
			for _, r := range recs {
				if r.Algorithm == key.ES256 {
					c, err := x509.ParseCertificate(r.Certificate)
					if err != nil {
						t.Fatal(err)
					}
					if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
						t.Fatalf("key %s: self-signed certificate does not verify: %v", r.KID, err)
					}
				}
			}
			deleted := 0
			for kid, ref := range everRef {
				if slices.ContainsFunc(recs, func(r key.Record) bool { return r.KID == kid }) {
					if _, err := b.Signer(ctx, ref, algOf(t, ref)); err != nil {
						t.Errorf("stored key %s: backend object unusable: %v", kid, err)
					}
					continue
				}
				deleted++
				if _, err := b.Signer(ctx, ref, algOf(t, ref)); !errors.Is(err, keybackend.ErrObjectMissing) {
					t.Errorf("deleted key %s: backend object still usable (err %v); want it destroyed", kid, err)
				}
			}
			// 250 days with 90-day rotation and 14 days' retention: two
			// generations of each algorithm are deleted.
			if deleted < 4 || len(everRef) < 6 {
				t.Fatalf("%d keys made, %d deleted; want at least 6 and 4", len(everRef), deleted)
			}
			for _, ki := range m.Keys() {
				if ki.Backend != typ {
					t.Errorf("KeyInfo %s: Backend %q; want %q", ki.KID, ki.Backend, typ)
				}
			}
		})
	}
}

func algOf(t *testing.T, ref keybackend.Ref) key.Algorithm {
	pub, err := ref.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []key.Algorithm{key.ES256, key.PS256} {
		if jwk.CheckAlgorithm(a, pub) == nil {
			return a
		}
	}
	t.Fatalf("unexpected key type %T", pub)
	return ""
}

// TestBackendSwitch changes keyBackend on a running deployment, from
// software to the backend and back: the next key is made in the new
// backend and announced for the propagation time while the old key keeps
// signing, then takes over; the old key retires and stays published. With
// the old backend's settings dropped, its remaining key is reported
// unreadable with the fix, and nothing replaces it silently.
func TestBackendSwitch(t *testing.T) {
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			b := backendtest.Open(t, typ)
			ctx := context.Background()
			clk := newClock()
			store := memstore.New()
			sealer := testSealer(t)
			o := opts(key.ES256)
			soft := newManager(t, Config{Options: o, Store: store, Now: clk.Now, Sealer: sealer})
			start(t, soft)
			old := soft.Plan().Series[0].Signing

			clk.Add(10 * 24 * time.Hour)
			m := newManager(t, Config{Options: o, Store: store, Now: clk.Now, Sealer: sealer, KeyBackend: b})
			start(t, m)
			checkSigner := func(m *Manager, want string) {
				t.Helper()
				k, err := m.SigningKey(nil)
				if err != nil {
					t.Fatal(err)
				}
				if k.KID() != want {
					t.Fatalf("%s: signing kid %s; want %s", clk.Now(), k.KID(), want)
				}
				if err := m.Ready(); err != nil {
					t.Fatal(err)
				}
			}
			checkSigner(m, old)
			var nw KeyInfo
			for _, ki := range m.Keys() {
				if ki.KID != old {
					nw = ki
				}
			}
			if nw.Backend != typ || nw.State != key.StatePending || !nw.SignsFrom.Equal(clk.Now().Add(o.PropagationTime)) {
				t.Fatalf("after the switch: new key %+v; want a pending %s key signing after the propagation time", nw, typ)
			}
			if !slices.Contains(publishedKIDs(t, m), nw.KID) {
				t.Fatal("the new backend key is not announced")
			}
			// The software instance still running reads the new key? It
			// has no backend: it reports it, and keeps signing with old.
			if err := m.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(countKeysList(t, store)); n != 2 {
				t.Fatalf("a second reconcile made more keys: %d stored", n)
			}
			clk.Set(nw.SignsFrom)
			if err := m.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			checkSigner(m, nw.KID)
			for _, ki := range m.Keys() {
				if ki.KID == old && (ki.State != key.StateRetired || ki.Backend != key.BackendSoftware) {
					t.Fatalf("old key %+v; want retired, software", ki)
				}
			}

			// And back to software, with the backend kept as previous.
			clk.Add(24 * time.Hour)
			back := newManager(t, Config{Options: o, Store: store, Now: clk.Now, Sealer: sealer, PreviousBackends: []keybackend.Backend{b}})
			start(t, back)
			checkSigner(back, nw.KID)
			var sw KeyInfo
			for _, ki := range back.Keys() {
				if ki.Backend == key.BackendSoftware && ki.State == key.StatePending {
					sw = ki
				}
			}
			if sw.KID == "" {
				t.Fatalf("switching back made no pending software key: %+v", back.Keys())
			}

			// The backend dropped while its key still signs: unreadable,
			// with the fix, and no replacement.
			lost := newManager(t, Config{Options: o, Store: store, Now: clk.Now, Sealer: sealer})
			before := len(countKeysList(t, store))
			if err := lost.Start(ctx); err != nil {
				t.Fatal(err)
			}
			err := lost.Ready()
			if err == nil || !strings.Contains(err.Error(), "keyBackend.previous") {
				t.Fatalf("Ready = %v; want the unreadable backend key with the keyBackend.previous fix", err)
			}
			if after := len(countKeysList(t, store)); after != before {
				t.Fatalf("stored keys %d -> %d: an unreadable key was replaced", before, after)
			}
		})
	}
}

func countKeysList(t *testing.T, s keystore.Store) []key.Record {
	t.Helper()
	recs, err := s.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestBackendObjectMissing: a record whose backend object was removed by
// hand is reported like an unreadable key (kid, reason, likely cause) and
// never replaced.
func TestBackendObjectMissing(t *testing.T) {
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			b := backendtest.Open(t, typ)
			ctx := context.Background()
			clk := newClock()
			store := memstore.New()
			o := opts(key.ES256)
			m := newManager(t, Config{Options: o, Store: store, Now: clk.Now, KeyBackend: b})
			start(t, m)
			refs := checkNoPrivateMaterial(t, store, typ)
			for _, ref := range refs {
				if err := b.Destroy(ctx, ref); err != nil {
					t.Fatal(err)
				}
			}
			m2 := newManager(t, Config{Options: o, Store: store, Now: clk.Now, KeyBackend: b})
			if err := m2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			err := m2.Ready()
			if err == nil || !strings.Contains(err.Error(), "gone from the backend") {
				t.Fatalf("Ready = %v; want the missing object reported with its likely cause", err)
			}
			for kid := range refs {
				if !strings.Contains(err.Error(), kid) {
					t.Fatalf("Ready = %v; want it to name kid %s", err, kid)
				}
			}
			if n := len(countKeysList(t, store)); n != 1 {
				t.Fatalf("%d keys stored; want the one unreadable key, not replaced", n)
			}
		})
	}
}

// TestBackendUnsupportedAlgorithm: an algorithm the backend cannot do is a
// configuration error naming the backend.
func TestBackendUnsupportedAlgorithm(t *testing.T) {
	b := backendtest.Open(t, keybackend.PKCS11)
	_, err := New(Config{Options: opts(key.EdDSA), Store: memstore.New(), KeyBackend: b})
	if !errors.Is(err, ErrConfig) || !errors.Is(err, keybackend.ErrUnsupported) || !strings.Contains(err.Error(), "keyBackend.type pkcs11") {
		t.Fatalf("New = %v; want ErrConfig naming the pkcs11 backend", err)
	}
}

// fakeBackend holds software keys behind the Backend interface; signing
// for the algorithms in slow blocks until the sign timeout.
type fakeBackend struct {
	mu    sync.Mutex
	keys  map[string]crypto.Signer
	slow  map[key.Algorithm]bool
	calls int
	// down makes Signer fail as an unreachable backend does.
	down bool
	// timeout is the sign timeout (300ms when zero); hanging counts the
	// calls of slow algorithms waiting for it.
	timeout time.Duration
	hanging atomic.Int32
}

func (f *fakeBackend) Type() string                   { return keybackend.PKCS11 }
func (f *fakeBackend) Check(key.Algorithm, int) error { return nil }
func (f *fakeBackend) Close() error                   { return nil }
func (f *fakeBackend) Destroy(_ context.Context, r keybackend.Ref) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, r.ID)
	return nil
}

func (f *fakeBackend) Generate(_ context.Context, kid string, alg key.Algorithm, bits int) (keybackend.Ref, error) {
	s, err := jwk.Generate(alg, bits)
	if err != nil {
		return keybackend.Ref{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return keybackend.Ref{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]crypto.Signer{}
	}
	f.keys[kid] = s
	return keybackend.Ref{Backend: keybackend.PKCS11, ID: kid, Label: kid, Public: der}, nil
}

func (f *fakeBackend) Signer(_ context.Context, r keybackend.Ref, alg key.Algorithm) (crypto.Signer, error) {
	f.mu.Lock()
	s, down := f.keys[r.ID], f.down
	f.mu.Unlock()
	if down {
		return nil, fmt.Errorf("%w: connection refused", keybackend.ErrUnavailable)
	}
	if s == nil {
		return nil, keybackend.ErrObjectMissing
	}
	timeout := f.timeout
	if timeout == 0 {
		timeout = 300 * time.Millisecond
	}
	return keybackend.TimedSigner(s.Public(), timeout, "fake key "+r.ID,
		func(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
			f.mu.Lock()
			f.calls++
			f.mu.Unlock()
			if f.slow[alg] {
				f.hanging.Add(1)
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return s.Sign(nil, digest, opts)
		}), nil
}

// TestSlowBackendBlocksNoOtherAlgorithm: while ES256 signatures hang in
// the backend (each until its timeout), RS256 tokens are signed: all of
// them complete while every ES256 call is still hanging. The hung calls
// then fail with ErrUnavailable. Each token is exactly one backend call:
// no signature caching.
func TestSlowBackendBlocksNoOtherAlgorithm(t *testing.T) {
	fb := &fakeBackend{slow: map[key.Algorithm]bool{key.ES256: true}, timeout: 3 * time.Second}
	m := newManager(t, Config{Options: opts(key.ES256, key.RS256), Store: memstore.New(), Now: newClock().Now, KeyBackend: fb})
	start(t, m)
	es, err := m.SigningKey([]key.Algorithm{key.ES256})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := m.SigningKey([]key.Algorithm{key.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var returned atomic.Int32
	slowErrs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := es.Sign("JWT", []byte(`{}`))
			returned.Add(1)
			slowErrs <- err
		})
	}
	for fb.hanging.Load() < 8 { // every ES256 call is inside the backend
		time.Sleep(time.Millisecond)
	}
	for range 20 {
		sign(t, rs, `{"sub":"x"}`)
	}
	if n := returned.Load(); n != 0 {
		t.Fatalf("RS256 signatures finished only after %d hanging ES256 calls returned; want them independent", n)
	}
	wg.Wait()
	close(slowErrs)
	for err := range slowErrs {
		if !errors.Is(err, keybackend.ErrUnavailable) {
			t.Fatalf("hung ES256 signature: %v; want ErrUnavailable", err)
		}
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.calls != 28 {
		t.Fatalf("%d backend sign calls for 28 signatures; want one each", fb.calls)
	}
}

// TestBackendDownRetried: a key whose backend does not answer when it is
// loaded is reported (with the likely cause) and Reconcile fails, so that
// Run retries with backoff; once the backend answers, the key signs. No
// replacement is made meanwhile.
func TestBackendDownRetried(t *testing.T) {
	fb := &fakeBackend{}
	store := memstore.New()
	clk := newClock()
	first := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now, KeyBackend: fb})
	start(t, first)
	fb.mu.Lock()
	fb.down = true
	fb.mu.Unlock()
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now, KeyBackend: fb})
	err := m.Start(context.Background())
	if !errors.Is(err, keybackend.ErrUnavailable) {
		t.Fatalf("Start = %v; want the backend's unavailability, so the loop retries", err)
	}
	if err := m.Ready(); err == nil || !strings.Contains(err.Error(), "the key backend did not answer") {
		t.Fatalf("Ready = %v; want the unreadable key with the likely cause", err)
	}
	if n := len(countKeysList(t, store)); n != 1 {
		t.Fatalf("%d keys stored; want 1 (no replacement)", n)
	}
	fb.mu.Lock()
	fb.down = false
	fb.mu.Unlock()
	if err := m.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Ready(); err != nil {
		t.Fatalf("Ready after the backend answers: %v", err)
	}
}

// TestResealSkipsBackendKeys: reseal re-encrypts software keys and leaves
// backend references alone (there is nothing to seal).
func TestResealSkipsBackendKeys(t *testing.T) {
	fb := &fakeBackend{}
	store := memstore.New()
	clk := newClock()
	sealer := testSealer(t)
	soft := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now, Sealer: sealer})
	start(t, soft)
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Now: clk.Now, Sealer: testSealer(t, "a new secret, long enough", "test secret one, long enough"), KeyBackend: fb})
	start(t, m) // announces a backend key beside the software one
	before := countKeysList(t, store)
	res, err := m.Reseal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Resealed != 1 || res.Unreadable != 0 {
		t.Fatalf("Reseal = %+v; want the one software key resealed", res)
	}
	for _, r := range countKeysList(t, store) {
		if !r.InBackend() {
			continue
		}
		for _, b := range before {
			if b.KID == r.KID && (b.Protection != r.Protection || string(b.PrivateKey) != string(r.PrivateKey)) {
				t.Fatalf("backend key %s changed by reseal", r.KID)
			}
		}
	}
	if err := m.Ready(); err != nil {
		t.Fatal(err)
	}
}

// TestBackendToBackendSwitch moves a running deployment from a PKCS#11
// token to KMS with the token kept as keyBackend.previous: the KMS key is
// announced while the token's key signs, takes over after the propagation
// time, and the token's key is destroyed after its retention.
func TestBackendToBackendSwitch(t *testing.T) {
	hsm := backendtest.Open(t, keybackend.PKCS11)
	kms := backendtest.Open(t, keybackend.AWSKMS)
	ctx := context.Background()
	clk := newClock()
	store := memstore.New()
	o := opts(key.ES256)
	first := newManager(t, Config{Options: o, Store: store, Now: clk.Now, KeyBackend: hsm})
	start(t, first)
	old := first.Plan().Series[0].Signing
	oldRef := checkNoPrivateMaterial(t, store, keybackend.PKCS11)[old]

	clk.Add(24 * time.Hour)
	m := newManager(t, Config{Options: o, Store: store, Now: clk.Now, KeyBackend: kms, PreviousBackends: []keybackend.Backend{hsm}})
	start(t, m)
	if k, err := m.SigningKey(nil); err != nil || k.KID() != old {
		t.Fatalf("right after the switch: signing %v, %v; want the token's key %s", k, err, old)
	}
	var next KeyInfo
	for _, ki := range m.Keys() {
		if ki.Backend == keybackend.AWSKMS {
			next = ki
		}
	}
	if next.State != key.StatePending {
		t.Fatalf("no pending KMS key after the switch: %+v", m.Keys())
	}
	clk.Set(next.SignsFrom)
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if k, err := m.SigningKey(nil); err != nil || k.KID() != next.KID {
		t.Fatalf("after the propagation time: signing %v, %v; want the KMS key %s", k, err, next.KID)
	}
	clk.Set(next.SignsFrom.Add(o.RetentionDuration + time.Hour))
	if err := m.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := hsm.Signer(ctx, oldRef, key.ES256); !errors.Is(err, keybackend.ErrObjectMissing) {
		t.Fatalf("the token's key after its retention: %v; want it destroyed", err)
	}
	if err := m.Ready(); err != nil {
		t.Fatal(err)
	}
}
