package keymanager

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
)

// Load on an empty store creates nothing and records nothing.
func TestLoadCreatesNothing(t *testing.T) {
	store := memstore.New()
	static := staticKey(t, key.ES256, "static")
	m := newManager(t, Config{Options: opts(key.ES256), Store: store, Static: static, Now: newClock().Now})
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countKeys(t, store); len(got) != 0 {
		t.Fatalf("Load created keys: %v", got)
	}
	if _, err := store.Meta(context.Background(), MetaManagedAnnounced); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("Load recorded the migration: %v", err)
	}
	if err := m.Ready(); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Ready after Load on an empty store: %v", err)
	}
	if ks := m.Keys(); len(ks) != 1 || ks[0].State != StateStaticSigning {
		t.Fatalf("Keys: %+v", ks)
	}
}

// Load publishes what a server would: the same JWKS bytes and key states,
// and it does not act on a due successor.
func TestLoadPublishesWithoutActing(t *testing.T) {
	store := memstore.New()
	clk := newClock()
	o := opts(key.ES256, key.EdDSA)
	server := newManager(t, Config{Options: o, Store: store, Now: clk.Now})
	start(t, server)

	// Past the successor's due time: a server would create one.
	clk.Add(o.RotationInterval - o.PropagationTime + time.Hour)
	before := countKeys(t, store)
	viewer := newManager(t, Config{Options: o, Store: store, Now: clk.Now})
	if err := viewer.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after := countKeys(t, store); after[key.ES256] != before[key.ES256] || after[key.EdDSA] != before[key.EdDSA] {
		t.Fatalf("Load acted on the plan: %v, then %v", before, after)
	}
	if len(viewer.Plan().Create) == 0 {
		t.Fatal("the plan should ask for successors (the test's premise)")
	}
	if !bytes.Equal(viewer.JWKS().Body, server.JWKS().Body) || viewer.JWKS().ETag != server.JWKS().ETag {
		t.Fatalf("JWKS differ:\n%s\n%s", viewer.JWKS().Body, server.JWKS().Body)
	}
	if err := viewer.Ready(); err != nil {
		t.Fatal(err)
	}
	for _, k := range viewer.Keys() {
		if k.State != key.StateActive {
			t.Errorf("%s %s: state %s, want active", k.Algorithm, k.KID, k.State)
		}
	}
}

// Load reports a store that cannot be read.
func TestLoadStoreError(t *testing.T) {
	m := newManager(t, Config{Options: opts(key.ES256), Store: inspectDownStore{}, Now: newClock().Now})
	if err := m.Load(context.Background()); err == nil {
		t.Fatal("Load of a failing store returned nil")
	}
	if m.StoreError() == nil {
		t.Fatal("StoreError is nil after a failed Load")
	}
}

type inspectDownStore struct{}

var errInspectDown = errors.New("store down")

func (inspectDownStore) Keys(context.Context) ([]key.Record, error)  { return nil, errInspectDown }
func (inspectDownStore) CreateKey(context.Context, key.Record) error { return errInspectDown }
func (inspectDownStore) UpdateKey(context.Context, key.Record) error { return errInspectDown }
func (inspectDownStore) DeleteKey(context.Context, string) error     { return errInspectDown }
