package storetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keystore"
)

// NewStorage prepares fresh, empty storage for one test and returns open,
// which returns a new handle on that storage each time it is called (a
// store opened on the same directory, database file or database). open is
// called on the test's goroutine only; it fails the test itself if it
// cannot open a handle. Closing the handles and removing the storage is
// registered with t.Cleanup by NewStorage.
//
// A store with no notion of a second handle (memstore) may return the same
// value every time.
type NewStorage func(t *testing.T) (open func() keystore.Store)

// Run runs the conformance suite as subtests of t, each on fresh storage.
func Run(t *testing.T, newStorage NewStorage) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, func() keystore.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"SubMicrosecond", testSubMicrosecond},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"CreateExisting", testCreateExisting},
		{"UpdateDeleteMissing", testUpdateDeleteMissing},
		{"InvalidRecords", testInvalidRecords},
		{"SecondHandleSeesWrites", testSecondHandle},
		{"ContextDone", testContextDone},
		{"ConcurrentCreateSameKID", testConcurrentCreateSameKID},
		{"ConcurrentWrites", testConcurrentWrites},
		{"LockExcludes", testLockExcludes},
		{"LockOutlivesLockContext", testLockOutlivesContext},
		{"LockRereadCreate", testLockRereadCreate},
		{"Revision", testRevision},
		{"Watch", testWatch},
		{"Meta", testMeta},
		{"ConcurrentMeta", testConcurrentMeta},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open := newStorage(t)
			tc.fn(t, open)
		})
	}
}

// testContext bounds every subtest so a deadlocked store fails instead of
// hanging the test binary.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func keys(t *testing.T, ctx context.Context, s keystore.Store) map[string]key.Record {
	t.Helper()
	rs, err := s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys: %v", err)
	}
	out := make(map[string]key.Record, len(rs))
	for _, r := range rs {
		if _, dup := out[r.KID]; dup {
			t.Fatalf("Keys returned kid %q twice", r.KID)
		}
		out[r.KID] = r
	}
	return out
}

func mustCreate(t *testing.T, ctx context.Context, s keystore.Store, r key.Record) {
	t.Helper()
	if err := s.CreateKey(ctx, r); err != nil {
		t.Fatalf("CreateKey %q: %v", r.KID, err)
	}
}

// wantKeys checks that s holds exactly want, field by field.
func wantKeys(t *testing.T, ctx context.Context, s keystore.Store, want ...key.Record) {
	t.Helper()
	got := keys(t, ctx, s)
	if len(got) != len(want) {
		kids := make([]string, 0, len(got))
		for k := range got {
			kids = append(kids, k)
		}
		t.Errorf("Keys returned %d records %v, want %d", len(got), kids, len(want))
	}
	for _, w := range want {
		g, ok := got[w.KID]
		if !ok {
			t.Errorf("Keys lacks %q", w.KID)
			continue
		}
		if d := diff(g, w); d != "" {
			t.Errorf("record %q does not round-trip:%s", w.KID, d)
		}
	}
}

// diff describes how got differs from want; "" if it does not. Times are
// compared as instants; sub-microsecond digits of want may be dropped.
func diff(got, want key.Record) string {
	var b strings.Builder
	str := func(name, g, w string) {
		if g != w {
			fmt.Fprintf(&b, "\n\t%s = %q, want %q", name, g, w)
		}
	}
	tm := func(name string, g, w time.Time) {
		if !g.Equal(w) && !g.Equal(w.Truncate(time.Microsecond)) {
			fmt.Fprintf(&b, "\n\t%s = %s, want %s", name, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano))
		}
		if !g.IsZero() && g.Location() != time.UTC && g.Location() != w.Location() {
			fmt.Fprintf(&b, "\n\t%s is in %s, want UTC", name, g.Location())
		}
	}
	byt := func(name string, g, w []byte) {
		if !bytes.Equal(g, w) {
			fmt.Fprintf(&b, "\n\t%s = %d bytes %.16x..., want %d bytes %.16x...", name, len(g), g, len(w), w)
		}
	}
	str("KID", got.KID, want.KID)
	str("Algorithm", string(got.Algorithm), string(want.Algorithm))
	tm("Created", got.Created, want.Created)
	tm("SignsFrom", got.SignsFrom, want.SignsFrom)
	tm("RetiresAt", got.RetiresAt, want.RetiresAt)
	tm("DeleteAfter", got.DeleteAfter, want.DeleteAfter)
	if got.Revoked.IsZero() != want.Revoked.IsZero() {
		fmt.Fprintf(&b, "\n\tRevoked = %s, want %s", got.Revoked, want.Revoked)
	} else if !want.Revoked.IsZero() {
		tm("Revoked", got.Revoked, want.Revoked)
	}
	if got.X509 != want.X509 {
		fmt.Fprintf(&b, "\n\tX509 = %t, want %t", got.X509, want.X509)
	}
	byt("Certificate", got.Certificate, want.Certificate)
	str("Protection", got.Protection, want.Protection)
	byt("PrivateKey", got.PrivateKey, want.PrivateKey)
	return b.String()
}

func testEmpty(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	rs, err := open().Keys(ctx)
	if err != nil {
		t.Fatalf("Keys of an empty store: %v", err)
	}
	if len(rs) != 0 {
		t.Fatalf("Keys of an empty store returned %d records", len(rs))
	}
}

// variedRecords returns records that exercise every field: both
// protections, with and without a certificate, revoked, a first key that
// signs at once, times given in another zone, binary key bytes of every
// value.
func variedRecords() []key.Record {
	r1 := NewRecord()

	r2 := NewRecordAt(key.RS256, time.Now().Add(-100*24*time.Hour))
	r2.Protection = key.ProtectionNone
	r2.X509, r2.Certificate = false, nil
	r2.Revoked = r2.Created.Add(3*time.Hour + 7*time.Microsecond)

	r3 := NewRecordAt(key.EdDSA, time.Now())
	r3.SignsFrom = r3.Created // the first key of an algorithm signs at once
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	r3.Created, r3.SignsFrom = r3.Created.In(zone), r3.SignsFrom.In(zone)
	r3.RetiresAt, r3.DeleteAfter = r3.RetiresAt.In(zone), r3.DeleteAfter.In(zone)

	r4 := NewRecordAt(key.PS512, time.Date(2031, 12, 31, 23, 59, 59, 999_999_000, time.UTC))
	r4.PrivateKey = make([]byte, 4096)
	for i := range r4.PrivateKey {
		r4.PrivateKey[i] = byte(i) // every byte value, NULs included
	}
	r4.Certificate = []byte{0}

	// Keys held by a key backend: the record keeps a reference and the
	// public key (package keybackend's JSON), never private material.
	r5 := NewRecordAt(key.ES256, time.Now())
	r5.Protection, r5.PrivateKey = key.ProtectionPKCS11, backendRef(keybackend.Ref{Backend: keybackend.PKCS11, ID: r5.KID, Label: r5.KID})
	r6 := NewRecordAt(key.ES256, time.Now())
	r6.X509, r6.Certificate = false, nil
	r6.Protection, r6.PrivateKey = key.ProtectionAWSKMS, backendRef(keybackend.Ref{Backend: keybackend.AWSKMS,
		ID: "arn:aws:kms:eu-west-1:111122223333:key/0b7e1c52-7a8e-4a4e-9d0b-2f1e5c3d4a6b", Region: "eu-west-1"})
	return []key.Record{r1, r2, r3, r4, r5, r6}
}

// backendRef encodes ref with a fresh ES256 public key.
func backendRef(ref keybackend.Ref) []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	if ref.Public, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
		panic(err)
	}
	b, err := keybackend.EncodeRef(ref)
	if err != nil {
		panic(err)
	}
	return b
}

func testRoundTrip(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	rs := variedRecords()
	for _, r := range rs {
		mustCreate(t, ctx, s, r)
	}
	wantKeys(t, ctx, s, rs...)
}

func testSubMicrosecond(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	r := NewRecord()
	r.Created = r.Created.Add(123 * time.Nanosecond)
	r.SignsFrom = r.SignsFrom.Add(999 * time.Nanosecond)
	r.Revoked = r.RetiresAt.Add(-time.Nanosecond)
	mustCreate(t, ctx, s, r)
	wantKeys(t, ctx, s, r) // diff accepts the value or its truncation to µs
}

func testRecordsAreCopies(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	r := NewRecord()
	want := r
	want.PrivateKey = bytes.Clone(r.PrivateKey)
	want.Certificate = bytes.Clone(r.Certificate)
	mustCreate(t, ctx, s, r)
	r.PrivateKey[0] ^= 0xff // the caller reuses its buffer
	r.Certificate[0] ^= 0xff
	got := keys(t, ctx, s)[r.KID]
	got.PrivateKey[1] ^= 0xff // a reader scribbles on what it got
	wantKeys(t, ctx, s, want)
}

func testUpdate(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	a, b := NewRecord(), NewRecordAt(key.RS384, time.Now())
	mustCreate(t, ctx, s, a)
	mustCreate(t, ctx, s, b)

	// Every mutable field changes.
	u := a
	u.Algorithm = key.ES384
	u.Created = a.Created.Add(-time.Hour)
	u.SignsFrom = a.SignsFrom.Add(-time.Hour - time.Microsecond)
	u.RetiresAt = a.RetiresAt.Add(time.Minute)
	u.DeleteAfter = a.DeleteAfter.Add(time.Minute)
	u.Revoked = a.Created.Add(time.Second + 3*time.Microsecond)
	u.X509, u.Certificate = false, nil
	u.Protection = key.ProtectionNone
	u.PrivateKey = []byte("another sealed key")
	if err := s.UpdateKey(ctx, u); err != nil {
		t.Fatalf("UpdateKey: %v", err)
	}
	wantKeys(t, ctx, s, u, b)

	// And back: a revocation can be cleared, a certificate added.
	if err := s.UpdateKey(ctx, a); err != nil {
		t.Fatalf("UpdateKey back: %v", err)
	}
	wantKeys(t, ctx, s, a, b)
}

func testDelete(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	a, b := NewRecord(), NewRecord()
	mustCreate(t, ctx, s, a)
	mustCreate(t, ctx, s, b)
	if err := s.DeleteKey(ctx, a.KID); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	wantKeys(t, ctx, s, b)
	// The kid is free again.
	mustCreate(t, ctx, s, a)
	wantKeys(t, ctx, s, a, b)
}

func testCreateExisting(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	r := NewRecord()
	mustCreate(t, ctx, s, r)
	dup := NewRecordAt(key.RS256, time.Now())
	dup.KID = r.KID
	err := s.CreateKey(ctx, dup)
	if !errors.Is(err, keystore.ErrExists) {
		t.Fatalf("CreateKey of a taken kid: error %v, want keystore.ErrExists", err)
	}
	if !strings.Contains(err.Error(), r.KID) {
		t.Errorf("error %q does not name the kid %q", err, r.KID)
	}
	wantKeys(t, ctx, s, r) // the first record is untouched
}

func testUpdateDeleteMissing(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	kept := NewRecord()
	mustCreate(t, ctx, s, kept)
	missing := NewRecord()

	err := s.UpdateKey(ctx, missing)
	if !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("UpdateKey of a missing kid: error %v, want keystore.ErrNotFound", err)
	} else if !strings.Contains(err.Error(), missing.KID) {
		t.Errorf("error %q does not name the kid", err)
	}
	err = s.DeleteKey(ctx, missing.KID)
	if !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("DeleteKey of a missing kid: error %v, want keystore.ErrNotFound", err)
	} else if !strings.Contains(err.Error(), missing.KID) {
		t.Errorf("error %q does not name the kid", err)
	}
	// A deleted kid is missing too.
	if err := s.DeleteKey(ctx, kept.KID); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if err := s.DeleteKey(ctx, kept.KID); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("second DeleteKey: error %v, want keystore.ErrNotFound", err)
	}
	if err := s.UpdateKey(ctx, kept); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("UpdateKey after delete: error %v, want keystore.ErrNotFound", err)
	}
	wantKeys(t, ctx, s) // update never creates
}

func testInvalidRecords(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	stored := NewRecord()
	mustCreate(t, ctx, s, stored)

	breakers := []struct {
		name   string
		mutate func(*key.Record)
	}{
		{"empty kid", func(r *key.Record) { r.KID = "" }},
		{"unknown algorithm", func(r *key.Record) { r.Algorithm = "HS256" }},
		{"no created", func(r *key.Record) { r.Created = time.Time{} }},
		{"no deleteAfter", func(r *key.Record) { r.DeleteAfter = time.Time{} }},
		{"retires before signing", func(r *key.Record) { r.RetiresAt = r.SignsFrom.Add(-time.Second) }},
		{"unknown protection", func(r *key.Record) { r.Protection = "rot13" }},
		{"no private key", func(r *key.Record) { r.PrivateKey = nil }},
		{"x509 without certificate", func(r *key.Record) { r.X509, r.Certificate = true, nil }},
	}
	for _, b := range breakers {
		fresh := NewRecord()
		b.mutate(&fresh)
		if err := s.CreateKey(ctx, fresh); !errors.Is(err, key.ErrInvalidRecord) {
			t.Errorf("CreateKey with %s: error %v, want key.ErrInvalidRecord", b.name, err)
		}
		if b.name == "empty kid" {
			continue // no stored record has that kid to update
		}
		upd := stored
		b.mutate(&upd)
		if err := s.UpdateKey(ctx, upd); !errors.Is(err, key.ErrInvalidRecord) {
			t.Errorf("UpdateKey with %s: error %v, want key.ErrInvalidRecord", b.name, err)
		}
	}
	wantKeys(t, ctx, s, stored) // nothing refused was stored
}

func testSecondHandle(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	a, b := open(), open()
	r := NewRecord()
	mustCreate(t, ctx, a, r)
	wantKeys(t, ctx, b, r)
	r.Revoked = r.SignsFrom
	if err := b.UpdateKey(ctx, r); err != nil {
		t.Fatalf("UpdateKey through the second handle: %v", err)
	}
	wantKeys(t, ctx, a, r)
	if err := a.CreateKey(ctx, r); !errors.Is(err, keystore.ErrExists) {
		t.Errorf("CreateKey of a kid created through another handle: error %v, want keystore.ErrExists", err)
	}
	if err := b.DeleteKey(ctx, r.KID); err != nil {
		t.Fatalf("DeleteKey through the second handle: %v", err)
	}
	wantKeys(t, ctx, a)
}

func testContextDone(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	stored := NewRecord()
	mustCreate(t, ctx, s, stored)

	done, cancel := context.WithCancel(ctx)
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx: error %v, want one wrapping context.Canceled", op, err)
		}
	}
	_, err := s.Keys(done)
	check("Keys", err)
	check("CreateKey", s.CreateKey(done, NewRecord()))
	upd := stored
	upd.Revoked = upd.SignsFrom
	check("UpdateKey", s.UpdateKey(done, upd))
	check("DeleteKey", s.DeleteKey(done, stored.KID))

	// Lock with a done ctx may still take a free lock (memstore does, at
	// random); LockExcludes checks that a blocked Lock honours its ctx.
	if r, ok := s.(keystore.Revisioner); ok {
		_, err := r.Revision(done)
		check("Revision", err)
	}
	if m, ok := s.(keystore.MetaStore); ok {
		_, err := m.Meta(done, "x")
		check("Meta", err)
		check("SetMeta", m.SetMeta(done, "x", "y"))
		if _, err := m.Meta(ctx, "x"); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("SetMeta with a cancelled ctx stored the value (Meta error %v)", err)
		}
	}
	if w, ok := s.(keystore.Watcher); ok {
		if ch, err := w.Watch(done); err == nil {
			waitClosed(t, ch, "Watch channel for a cancelled ctx")
		} else {
			check("Watch", err)
		}
	}
	wantKeys(t, ctx, s, stored) // nothing changed
}

// waitClosed drains ch until it is closed; fails after a second.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Errorf("%s not closed within a second", what)
			return
		}
	}
}

// handles opens n handles on the storage, all on the test goroutine.
func handles(open func() keystore.Store, n int) []keystore.Store {
	hs := make([]keystore.Store, n)
	for i := range hs {
		hs[i] = open()
	}
	return hs
}

func testConcurrentCreateSameKID(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	const n = 16
	hs := handles(open, 4)
	base := NewRecord()
	recs := make([]key.Record, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		recs[i] = base
		recs[i].PrivateKey = fmt.Appendf(nil, "sealed key of creator %d", i)
		wg.Go(func() {
			<-start
			errs[i] = hs[i%len(hs)].CreateKey(ctx, recs[i])
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("creators %d and %d both created kid %q", winner, i, base.KID)
		case err == nil:
			winner = i
		case !errors.Is(err, keystore.ErrExists):
			t.Errorf("creator %d: error %v, want nil or keystore.ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no creator succeeded")
	}
	wantKeys(t, ctx, open(), recs[winner])
}

func testConcurrentWrites(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	const writers, each = 8, 4
	hs := handles(open, 4)
	var mu sync.Mutex
	var want []key.Record
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			s := hs[i%len(hs)]
			for range each {
				r := NewRecord()
				if err := s.CreateKey(ctx, r); err != nil {
					t.Errorf("CreateKey: %v", err)
					return
				}
				r.Revoked = r.SignsFrom
				if err := s.UpdateKey(ctx, r); err != nil {
					t.Errorf("UpdateKey: %v", err)
					return
				}
				mu.Lock()
				want = append(want, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	wantKeys(t, ctx, open(), want...) // no write was lost
}

func lockerOrSkip(t *testing.T, s keystore.Store) keystore.Locker {
	t.Helper()
	l, ok := s.(keystore.Locker)
	if !ok {
		t.Skipf("%T does not implement keystore.Locker", s)
	}
	return l
}

func mustLock(t *testing.T, ctx context.Context, l keystore.Locker) func() error {
	t.Helper()
	unlock, err := l.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return unlock
}

// wantLockBlocked checks that l cannot take the lock within 200ms and that
// the failed attempt reports the deadline.
func wantLockBlocked(t *testing.T, ctx context.Context, l keystore.Locker, who string) {
	t.Helper()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	unlock, err := l.Lock(short)
	if err == nil {
		_ = unlock()
		t.Fatalf("%s took the lock while another holder had it", who)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s: Lock error %v, want one wrapping context.DeadlineExceeded", who, err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("%s: Lock returned %s after its ctx ended, want promptly", who, waited)
	}
}

func testLockExcludes(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	a := lockerOrSkip(t, open())
	b := lockerOrSkip(t, open())

	unlock := mustLock(t, ctx, a)
	wantLockBlocked(t, ctx, b, "another handle")
	wantLockBlocked(t, ctx, a, "another goroutine on the same handle")
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}

	// Released: the other handle takes it at once, and a waiter is
	// admitted as soon as it is released again.
	unlock = mustLock(t, ctx, b)
	got := make(chan error, 1)
	go func() {
		u, err := a.Lock(ctx)
		if err == nil {
			err = u()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("waiter returned (%v) while the lock was held", err)
	default:
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiter: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiter did not get the lock within 10s of its release")
	}
}

func testLockOutlivesContext(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	a := lockerOrSkip(t, open())
	b := lockerOrSkip(t, open())
	lockCtx, cancel := context.WithCancel(ctx)
	unlock := mustLock(t, lockCtx, a)
	cancel() // ctx bounds the wait for the lock, not how long it is held
	wantLockBlocked(t, ctx, b, "another handle after the holder's Lock ctx ended")
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := mustLock(t, ctx, b)(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
}

func testLockRereadCreate(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	const instances = 16
	lockerOrSkip(t, open())
	hs := handles(open, instances) // one handle per "instance"
	var created atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range hs {
		wg.Go(func() {
			<-start
			if err := createIfMissing(ctx, s, key.ES256, &created); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	got := keys(t, ctx, open())
	if len(got) != 1 || created.Load() != 1 {
		t.Fatalf("%d instances racing lock/re-read/create left %d keys (%d creations), want exactly 1", instances, len(got), created.Load())
	}
}

// createIfMissing is what the key manager does at start-up: lock, re-read,
// create a key of alg only if none exists, unlock.
func createIfMissing(ctx context.Context, s keystore.Store, alg key.Algorithm, created *atomic.Int32) (err error) {
	unlock, err := s.(keystore.Locker).Lock(ctx)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer func() {
		if uerr := unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlock: %w", uerr)
		}
	}()
	rs, err := s.Keys(ctx)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	for _, r := range rs {
		if r.Algorithm == alg {
			return nil
		}
	}
	time.Sleep(5 * time.Millisecond) // generating a key takes time: widen the race
	if err := s.CreateKey(ctx, NewRecordAt(alg, time.Now())); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	created.Add(1)
	return nil
}

func testRevision(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s, other := open(), open()
	rv, ok := s.(keystore.Revisioner)
	if !ok {
		t.Skipf("%T does not implement keystore.Revisioner", s)
	}
	rev := func() string {
		t.Helper()
		v, err := rv.Revision(ctx)
		if err != nil {
			t.Fatalf("Revision: %v", err)
		}
		return v
	}
	seen := map[string]string{}
	last := rev()
	seen[last] = "start"
	if again := rev(); again != last {
		t.Fatalf("revision changed without a write: %q then %q", last, again)
	}
	step := func(what string, write func() error) {
		t.Helper()
		if err := write(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		now := rev()
		if now == last {
			t.Errorf("revision %q did not change after %s", now, what)
		} else if prev, dup := seen[now]; dup {
			t.Errorf("revision %q after %s repeats the one after %s", now, what, prev)
		}
		if again := rev(); again != now {
			t.Errorf("revision changed without a write after %s: %q then %q", what, now, again)
		}
		seen[now], last = what, now
	}
	r := NewRecord()
	step("CreateKey", func() error { return s.CreateKey(ctx, r) })
	r.Revoked = r.SignsFrom
	step("UpdateKey", func() error { return s.UpdateKey(ctx, r) })
	step("DeleteKey", func() error { return s.DeleteKey(ctx, r.KID) })
	step("CreateKey through another handle", func() error { return other.CreateKey(ctx, NewRecord()) })
	if m, ok := s.(keystore.MetaStore); ok {
		step("SetMeta", func() error { return m.SetMeta(ctx, "phase", "1") })
		step("SetMeta through another handle", func() error { return other.(keystore.MetaStore).SetMeta(ctx, "phase", "2") })
	}
	if now := rev(); now != last {
		t.Errorf("revision changed while nothing was written: %q then %q", last, now)
	}
}

func testWatch(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s, other := open(), open()
	w, ok := s.(keystore.Watcher)
	if !ok {
		t.Skipf("%T does not implement keystore.Watcher", s)
	}
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	ch, err := w.Watch(watchCtx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	expect := func(what string, write func() error) {
		t.Helper()
		drain(ch)
		if err := write(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case _, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed before ctx was done (after %s)", what)
			}
		case <-time.After(time.Second):
			t.Fatalf("%s through another handle was not signalled within a second", what)
		}
	}
	r := NewRecord()
	expect("CreateKey", func() error { return other.CreateKey(ctx, r) })
	r.Revoked = r.SignsFrom
	expect("UpdateKey", func() error { return other.UpdateKey(ctx, r) })
	expect("DeleteKey", func() error { return other.DeleteKey(ctx, r.KID) })
	if m, ok := other.(keystore.MetaStore); ok {
		expect("SetMeta", func() error { return m.SetMeta(ctx, "phase", "1") })
	}
	stop()
	waitClosed(t, ch, "watch channel after its ctx was done")
}

// drain empties ch of pending signals (a store may signal more than once
// per write) without waiting.
func drain(ch <-chan struct{}) {
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

func metaOrSkip(t *testing.T, s keystore.Store) keystore.MetaStore {
	t.Helper()
	m, ok := s.(keystore.MetaStore)
	if !ok {
		t.Skipf("%T does not implement keystore.MetaStore", s)
	}
	return m
}

func testMeta(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	s := open()
	m := metaOrSkip(t, s)
	other := metaOrSkip(t, open())

	_, err := m.Meta(ctx, "migration.phase1")
	if !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("Meta of an unset name: error %v, want keystore.ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "migration.phase1") {
		t.Errorf("error %q does not name the value", err)
	}
	get := func(m keystore.MetaStore, name, want string) {
		t.Helper()
		got, err := m.Meta(ctx, name)
		if err != nil {
			t.Fatalf("Meta %q: %v", name, err)
		}
		if got != want {
			t.Errorf("Meta %q = %q, want %q", name, got, want)
		}
	}
	set := func(m keystore.MetaStore, name, value string) {
		t.Helper()
		if err := m.SetMeta(ctx, name, value); err != nil {
			t.Fatalf("SetMeta %q: %v", name, err)
		}
	}
	set(m, "migration.phase1", "2025-01-02T03:04:05.123456Z")
	get(m, "migration.phase1", "2025-01-02T03:04:05.123456Z")
	get(other, "migration.phase1", "2025-01-02T03:04:05.123456Z")
	set(other, "migration.phase1", "overwritten")
	get(m, "migration.phase1", "overwritten")

	odd := "quotes \" ' \\ newline\n tab\t unicode é 鍵 NUL-free {\"json\": true}"
	set(m, "odd", odd)
	get(other, "odd", odd)
	set(m, "empty", "")
	get(m, "empty", "") // an empty value is set, not missing
	if _, err := m.Meta(ctx, "Migration.Phase1"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("names are case-sensitive: Meta of Migration.Phase1: error %v, want keystore.ErrNotFound", err)
	}
	wantKeys(t, ctx, s) // meta values are not keys
}

func testConcurrentMeta(t *testing.T, open func() keystore.Store) {
	ctx := testContext(t)
	metaOrSkip(t, open())
	hs := handles(open, 4)
	const writers = 16
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			m := hs[i%len(hs)].(keystore.MetaStore)
			if err := m.SetMeta(ctx, fmt.Sprintf("name-%d", i), fmt.Sprint(i)); err != nil {
				t.Errorf("SetMeta: %v", err)
			}
		})
	}
	wg.Wait()
	m := open().(keystore.MetaStore)
	for i := range writers {
		got, err := m.Meta(ctx, fmt.Sprintf("name-%d", i))
		if err != nil || got != fmt.Sprint(i) {
			t.Errorf("Meta name-%d = %q, %v: a concurrent SetMeta was lost", i, got, err)
		}
	}
}
