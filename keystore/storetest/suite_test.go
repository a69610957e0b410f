package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/storetest"
)

// broken is a memstore with one deliberate fault. The suite must fail it.
type broken struct {
	*memstore.Store
	fault string
}

func (b *broken) CreateKey(ctx context.Context, r key.Record) error {
	switch b.fault {
	case "milliseconds":
		r.Created = r.Created.Truncate(time.Millisecond)
		r.SignsFrom = r.SignsFrom.Truncate(time.Millisecond)
	case "last-write-wins":
		if err := b.Store.UpdateKey(ctx, r); err == nil {
			return nil
		}
	case "ignores-ctx":
		ctx = context.Background()
	case "unwrapped-errors":
		if err := b.Store.CreateKey(ctx, r); err != nil {
			return fmt.Errorf("create failed: %v", err)
		}
		return nil
	}
	return b.Store.CreateKey(ctx, r)
}

func (b *broken) DeleteKey(ctx context.Context, kid string) error {
	if b.fault == "delete-nothing" {
		return nil
	}
	return b.Store.DeleteKey(ctx, kid)
}

func (b *broken) Lock(ctx context.Context) (func() error, error) {
	if b.fault == "no-lock" {
		return func() error { return nil }, nil
	}
	return b.Store.Lock(ctx)
}

func (b *broken) Revision(ctx context.Context) (string, error) {
	if b.fault == "static-revision" {
		return "1", nil
	}
	return b.Store.Revision(ctx)
}

func (b *broken) Watch(ctx context.Context) (<-chan struct{}, error) {
	if b.fault == "silent-watch" {
		ch := make(chan struct{})
		go func() { <-ctx.Done(); close(ch) }()
		return ch, nil
	}
	return b.Store.Watch(ctx)
}

func (b *broken) SetMeta(ctx context.Context, name, value string) error {
	if b.fault == "lost-meta" {
		return nil
	}
	return b.Store.SetMeta(ctx, name, value)
}

// TestBrokenStoreChild runs the suite on one broken store when the parent
// test asks for it; otherwise it does nothing.
func TestBrokenStoreChild(t *testing.T) {
	fault := os.Getenv("STORETEST_FAULT")
	if fault == "" {
		t.Skip("run by TestSuiteCatchesFaults")
	}
	storetest.Run(t, func(t *testing.T) func() keystore.Store {
		s := &broken{Store: memstore.New(), fault: fault}
		return func() keystore.Store { return s }
	})
}

func TestSuiteCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary once per fault")
	}
	faults := map[string]string{ // fault: a failure the suite must report
		"milliseconds":     "does not round-trip",
		"last-write-wins":  "want keystore.ErrExists",
		"ignores-ctx":      "want one wrapping context.Canceled",
		"unwrapped-errors": "want key.ErrInvalidRecord",
		"delete-nothing":   "Keys returned 2 records",
		"no-lock":          "took the lock while another holder had it",
		"static-revision":  "did not change after CreateKey",
		"silent-watch":     "was not signalled within a second",
		"lost-meta":        "a concurrent SetMeta was lost",
	}
	for fault, want := range faults {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStoreChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "STORETEST_FAULT="+fault)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a store with fault %q (err %v):\n%s", fault, err, out)
			}
			if !strings.Contains(string(out), want) {
				t.Fatalf("the suite failed fault %q without reporting %q:\n%s", fault, want, out)
			}
		})
	}
}

func TestNewRecordIsValidAndRandom(t *testing.T) {
	a, b := storetest.NewRecord(), storetest.NewRecord()
	for _, r := range []key.Record{a, b} {
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
		if r.Created.Location() != time.UTC || r.Created.Nanosecond()%1000 != 0 || r.Created.Nanosecond()%int(time.Millisecond) == 0 {
			t.Errorf("Created %s: want UTC, whole microseconds, a non-zero sub-millisecond part", r.Created.Format(time.RFC3339Nano))
		}
		if r.Protection != key.ProtectionAESGCM || !r.X509 || len(r.Certificate) == 0 || len(r.PrivateKey) == 0 {
			t.Errorf("record %+v lacks the documented defaults", r)
		}
	}
	if a.KID == b.KID || string(a.PrivateKey) == string(b.PrivateKey) {
		t.Error("two records share a kid or key bytes")
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	r := storetest.NewRecordAt(key.RS512, at)
	if r.Algorithm != key.RS512 || r.Created.Sub(at) <= 0 || r.Created.Sub(at) >= time.Millisecond {
		t.Errorf("NewRecordAt(RS512, %s) = %s at %s", at, r.Algorithm, r.Created)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
}
