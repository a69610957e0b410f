package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore"
)

// BenchmarkRevocationReadFlow is the revocation check of introspections
// and userinfo calls as the server makes them with 16 clients at once,
// each for a token of its own that was not revoked (nearly all): the
// statements sent and the CPU time of the backends per read.
func BenchmarkRevocationReadFlow(b *testing.B) {
	b.ReportAllocs()
	s, app, qc := openFlowStore(b)
	ctx := b.Context()
	ids := make([]string, flowClients)
	for c := range ids {
		ids[c] = grant.HashHandle(fmt.Sprint("jti:client-", c))
	}
	revoked := grant.Grant{ID: grant.HashHandle("jti:revoked"), Kind: grant.KindRevocation, Created: time.Now(), Expires: time.Now().Add(time.Hour)}
	if err := s.CreateGrant(ctx, revoked); err != nil {
		b.Fatal(err)
	}
	m := startFlowMeter(b, app, qc)
	b.ResetTimer()
	runClients(b, func(c, _ int) error {
		yes, err := s.HasRevocation(ctx, ids[c])
		if err == nil && yes {
			err = fmt.Errorf("client %d's token reads as revoked", c)
		}
		return err
	})
	m.stop()
}

// Concurrent revocation reads share statements: 16 callers reading 8
// ids (every id by several callers at once, half of them revoked) make
// fewer statements than reads, and every read gets its own id's answer.
// Each read sent a statement of its own before reads were batched.
func TestConcurrentRevocationReadsShareStatements(t *testing.T) {
	_, dsn := newSchema(t)
	var qc queryCounter
	s := open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = &qc }))
	ctx := t.Context()
	now := time.Now()
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = grant.HashHandle(fmt.Sprint("jti:", i))
		if i%2 == 1 {
			if err := s.CreateGrant(ctx, grant.Grant{ID: ids[i], Kind: grant.KindRevocation, Created: now, Expires: now.Add(time.Hour), Revoked: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	const callers, each = 16, 64
	before := qc.n.Load()
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				k := (c + i) % len(ids)
				yes, err := s.HasRevocation(ctx, ids[k])
				if err != nil || yes != (k%2 == 1) {
					t.Errorf("caller %d: id %d read as revoked %v, %v; want %v", c, k, yes, err, k%2 == 1)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := qc.n.Load() - before; n >= callers*each {
		t.Fatalf("%d concurrent revocation reads sent %d statements, want fewer", callers*each, n)
	}
}

// revocationGate is a pgx tracer that counts statements and holds the
// next revocation read, once armed, at its start (before it is sent) or
// at its end (its rows read), until released.
type revocationGate struct {
	queryCounter
	at      atomic.Int32  // gateOff, gateStart or gateEnd
	reached chan uint32   // the held statement's backend pid
	release chan struct{} // lets the held statement go on
	mu      sync.Mutex
	errs    []error // the revocation reads' errors, in the order they ended
}

const (
	gateOff int32 = iota
	gateStart
	gateEnd
)

type revocationStatementKey struct{}

func newRevocationGate() *revocationGate {
	return &revocationGate{reached: make(chan uint32), release: make(chan struct{})}
}

func (g *revocationGate) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx = g.queryCounter.TraceQueryStart(ctx, conn, data)
	if data.SQL != revocationSQL && data.SQL != revocationBatchSQL {
		return ctx
	}
	if g.at.CompareAndSwap(gateStart, gateOff) {
		g.reached <- conn.PgConn().PID()
		<-g.release
	}
	return context.WithValue(ctx, revocationStatementKey{}, true)
}

func (g *revocationGate) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	if ctx.Value(revocationStatementKey{}) == nil {
		return
	}
	if g.at.CompareAndSwap(gateEnd, gateOff) {
		g.reached <- conn.PgConn().PID()
		<-g.release
	}
	g.mu.Lock()
	g.errs = append(g.errs, data.Err)
	g.mu.Unlock()
}

// ended returns the errors of the revocation reads that ended.
func (g *revocationGate) ended() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.errs)
}

// openGated opens a store in the schema of dsn whose revocation reads g
// can hold.
func openGated(t *testing.T, dsn string, g *revocationGate) *Store {
	return open(t, dsn, WithPoolConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = g }))
}

// gatedWithRevocation opens a gated store in a schema of its own and
// stores a revocation record there, whose id it returns.
func gatedWithRevocation(t *testing.T) (*Store, *revocationGate, string) {
	_, dsn := newSchema(t)
	g := newRevocationGate()
	s := openGated(t, dsn, g)
	revoked := grant.HashHandle("jti:revoked")
	revoke(t, s, revoked)
	return s, g, revoked
}

// holdSender waits until no revocation read of s is in flight, then
// makes them queue as while a statement is in flight; the function
// returned hands them to a sender, as the end of that statement does.
func holdSender(s *Store) (handOff func()) {
	q := &s.revocations
	for {
		q.mu.Lock()
		if !q.sending {
			q.sending = true
			q.wg.Add(1)
			q.mu.Unlock()
			return func() { q.handOff(s) }
		}
		q.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

// waitQueued waits until n revocation reads of s are queued.
func waitQueued(s *Store, n int) {
	for {
		s.revocations.mu.Lock()
		q := len(s.revocations.queue)
		s.revocations.mu.Unlock()
		if q == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// answer is a HasRevocation result.
type answer struct {
	revoked bool
	err     error
}

// readAsync calls s.HasRevocation(ctx, id) in a goroutine of its own.
func readAsync(ctx context.Context, s *Store, id string) <-chan answer {
	c := make(chan answer, 1)
	go func() {
		yes, err := s.HasRevocation(ctx, id)
		c <- answer{yes, err}
	}()
	return c
}

// revoke stores a revocation record for id.
func revoke(t *testing.T, s *Store, id string) {
	t.Helper()
	now := time.Now()
	if err := s.CreateGrant(t.Context(), grant.Grant{ID: id, Kind: grant.KindRevocation, Created: now, Expires: now.Add(time.Hour), Revoked: now}); err != nil {
		t.Fatal(err)
	}
}

// Reads queued while a statement is in flight are one statement, reads
// of one id in it included, and each gets its own id's answer.
func TestQueuedRevocationReadsAreOneStatement(t *testing.T) {
	s, g, revoked := gatedWithRevocation(t)
	absent := grant.HashHandle("jti:absent")
	handOff := holdSender(s)
	var reads []<-chan answer
	for i := range 10 {
		id := absent
		if i%3 == 0 {
			id = revoked
		}
		reads = append(reads, readAsync(t.Context(), s, id))
		waitQueued(s, i+1)
	}
	before := g.n.Load()
	handOff()
	for i, c := range reads {
		if a := <-c; a.err != nil || a.revoked != (i%3 == 0) {
			t.Errorf("read %d: revoked %v, %v; want %v", i, a.revoked, a.err, i%3 == 0)
		}
	}
	if n := g.n.Load() - before; n != 1 {
		t.Fatalf("10 queued reads sent %d statements, want 1", n)
	}
}

// A revocation committed at one instance (store handle B) before a read
// at another (A) holds for that read, even while a read of the same id
// sent earlier at A is in flight: the later read waits for a statement
// of its own instead of taking the earlier one's answer.
func TestRevocationReadSeesEarlierRevocation(t *testing.T) {
	_, dsn := newSchema(t)
	g := newRevocationGate()
	a, b := openGated(t, dsn, g), open(t, dsn)
	ctx := t.Context()
	for i := range 3 {
		id := grant.HashHandle(fmt.Sprint("jti:", i))
		g.at.Store(gateEnd) // the first read's answer (not revoked) is read and held
		first := readAsync(ctx, a, id)
		<-g.reached
		revoke(t, b, id)
		later := readAsync(ctx, a, id)
		waitQueued(a, 1)
		g.release <- struct{}{}
		if got := <-first; got.err != nil || got.revoked {
			t.Fatalf("the read sent before the revocation: revoked %v, %v; want false", got.revoked, got.err)
		}
		if got := <-later; got.err != nil || !got.revoked {
			t.Fatalf("round %d: a read asked after the revocation committed at another instance: revoked %v, %v; want true", i, got.revoked, got.err)
		}
	}
}

// A caller whose context ends while its batch's statement is in flight
// gets its context's error at once; the others of the batch get their
// answers. A batch whose every caller gave up has its statement
// cancelled.
func TestRevocationReadCancelledAlone(t *testing.T) {
	s, g, revoked := gatedWithRevocation(t)

	handOff := holdSender(s)
	cctx, cancel := context.WithCancel(t.Context())
	gone := readAsync(cctx, s, revoked)
	waitQueued(s, 1)
	stays := readAsync(t.Context(), s, revoked)
	waitQueued(s, 2)
	g.at.Store(gateStart)
	handOff()
	<-g.reached // the batch's statement is about to be sent, and held
	cancel()
	if a := <-gone; !errors.Is(a.err, context.Canceled) {
		t.Fatalf("a caller that gave up while its batch was in flight: revoked %v, %v; want context.Canceled", a.revoked, a.err)
	}
	g.release <- struct{}{}
	if a := <-stays; a.err != nil || !a.revoked {
		t.Fatalf("the other caller of the batch: revoked %v, %v; want true", a.revoked, a.err)
	}

	handOff = holdSender(s)
	cctx, cancel = context.WithCancel(t.Context())
	ended := len(g.ended())
	alone := readAsync(cctx, s, revoked)
	waitQueued(s, 1)
	g.at.Store(gateStart)
	handOff()
	<-g.reached
	s.revocations.mu.Lock()
	batch := s.revocations.queue // empty: the read is the batch's
	s.revocations.mu.Unlock()
	if len(batch) != 0 {
		t.Fatal("the read was not taken by a batch")
	}
	cancel()
	if a := <-alone; !errors.Is(a.err, context.Canceled) {
		t.Fatalf("the batch's only caller gave up: %v; want context.Canceled", a.err)
	}
	g.release <- struct{}{}
	// The next read waits for the cancelled batch's statement to end, and
	// has a statement of its own.
	if yes, err := s.HasRevocation(t.Context(), revoked); err != nil || !yes {
		t.Fatalf("a read after the cancelled batch: %v, %v; want true", yes, err)
	}
	if errs := g.ended()[ended:]; len(errs) != 2 || !errors.Is(errs[0], context.Canceled) || errs[1] != nil {
		t.Fatalf("the statements of the abandoned batch and of the next read ended with %v; want context.Canceled, then nil", errs)
	}
}

// An error of a batch's statement fails the reads of that batch, wrapped
// (here keystore.ErrUnavailable: its backend was terminated), and not
// those of the next batch.
func TestRevocationBatchErrorStaysInBatch(t *testing.T) {
	s, g, revoked := gatedWithRevocation(t)
	handOff := holdSender(s)
	failing := []<-chan answer{readAsync(t.Context(), s, revoked), readAsync(t.Context(), s, grant.HashHandle("jti:absent"))}
	waitQueued(s, 2)
	g.at.Store(gateStart)
	handOff()
	pid := <-g.reached
	next := readAsync(t.Context(), s, revoked)
	waitQueued(s, 1)
	var ok bool
	if err := admin(t).QueryRow(t.Context(), `SELECT pg_terminate_backend($1, 10000)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate the batch's backend: %v, %v", ok, err)
	}
	g.release <- struct{}{}
	for i, c := range failing {
		if a := <-c; !errors.Is(a.err, keystore.ErrUnavailable) || !strings.HasPrefix(a.err.Error(), "pgstore: has revocation: ") {
			t.Errorf("read %d of the failed batch: %v, %v; want a pgstore error wrapping keystore.ErrUnavailable", i, a.revoked, a.err)
		}
	}
	if a := <-next; a.err != nil || !a.revoked {
		t.Fatalf("the read of the next batch: %v, %v; want true", a.revoked, a.err)
	}
}

// Close answers the reads already queued, leaves no sender running, and
// refuses reads after it.
func TestCloseAnswersQueuedRevocationReads(t *testing.T) {
	_, dsn := newSchema(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	revoked := grant.HashHandle("jti:revoked")
	revoke(t, s, revoked)
	handOff := holdSender(s)
	queued := readAsync(t.Context(), s, revoked)
	waitQueued(s, 1)
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	for {
		s.revocations.mu.Lock()
		c := s.revocations.closed
		s.revocations.mu.Unlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := s.HasRevocation(t.Context(), revoked); !errors.Is(err, errClosed) {
		t.Fatalf("a read after Close: %v, want errClosed", err)
	}
	handOff()
	<-closed
	if a := <-queued; a.err != nil || !a.revoked {
		t.Fatalf("a read queued before Close: %v, %v; want true", a.revoked, a.err)
	}
	if s.revocations.sending {
		t.Fatal("a sender runs after Close")
	}
}
