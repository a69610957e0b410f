package pgstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/grant/granttest"
	"github.com/signet-id/signet/internal/procstat"
	"github.com/signet-id/signet/throttle"
)

// The store's part of the token flows, as the server makes it with 16
// clients at once, measured by what does not depend on the machine's
// load: the statements sent and the CPU time of the PostgreSQL backends
// that served them (read from /proc when PostgreSQL runs on this machine;
// the metric is left out otherwise), and the WAL flushes (pg_stat_wal,
// the whole server's: run on an otherwise idle PostgreSQL).

// flowClients is how many clients the benchmarks run at once, as the load
// benchmark's 16 connections.
const flowClients = 16

// backendCPU returns the CPU time of the backends whose application_name
// is app (newSchema's DSNs use the schema's name), and false when they
// cannot be read (PostgreSQL on another machine).
func backendCPU(ctx context.Context, conn *pgx.Conn, app string) (time.Duration, bool) {
	var pids []int32
	if err := conn.QueryRow(ctx, `SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&pids); err != nil || len(pids) == 0 {
		return 0, false
	}
	var total time.Duration
	for _, pid := range pids {
		st, err := procstat.Read(int(pid))
		if err != nil {
			return 0, false
		}
		total += st.CPU()
	}
	return total, true
}

// walFlushes returns pg_stat_wal.wal_sync, as of now.
func walFlushes(ctx context.Context, conn *pgx.Conn) (int64, error) {
	if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return 0, err
	}
	var n int64
	err := conn.QueryRow(ctx, `SELECT wal_sync FROM pg_stat_wal`).Scan(&n)
	return n, err
}

// flowMeter reports a benchmark's statements, backend CPU and WAL
// flushes per operation.
type flowMeter struct {
	b       *testing.B
	conn    *pgx.Conn
	app     string
	qc      *queryCounter
	q0      int64
	cpu0    time.Duration
	cpuOK   bool
	wal0    int64
	walOK   bool
	upd0    tableUpdates
	elapsed time.Time
}

func startFlowMeter(b *testing.B, app string, qc *queryCounter) *flowMeter {
	m := &flowMeter{b: b, conn: admin(b), app: app, qc: qc}
	ctx := b.Context()
	m.q0 = qc.n.Load()
	m.cpu0, m.cpuOK = backendCPU(ctx, m.conn, app)
	w, err := walFlushes(ctx, m.conn)
	m.wal0, m.walOK = w, err == nil
	m.upd0 = grantUpdates(ctx, m.conn, app)
	return m
}

func (m *flowMeter) stop() {
	b, ctx := m.b, context.WithoutCancel(m.b.Context())
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(m.qc.n.Load()-m.q0)/n, "statements/op")
	if cpu, ok := backendCPU(ctx, m.conn, m.app); ok && m.cpuOK {
		b.ReportMetric(float64((cpu-m.cpu0).Microseconds())/n, "pg-cpu-µs/op")
	}
	// Stats of the backends reach pg_stat_wal when they go idle, up to a
	// second later.
	time.Sleep(1100 * time.Millisecond)
	if w, err := walFlushes(ctx, m.conn); err == nil && m.walOK {
		b.ReportMetric(float64(w-m.wal0)/n, "wal-flushes/op")
	}
	if u := grantUpdates(ctx, m.conn, m.app); u.ok && m.upd0.ok {
		b.ReportMetric(float64(u.updated-m.upd0.updated)/n, "grant-updates/op")
		b.ReportMetric(float64(u.hot-m.upd0.hot)/n, "grant-hot-updates/op")
	}
}

// tableUpdates are the rows a table had updated, and how many of them in
// place (HOT: no new index entries), from pg_stat_user_tables.
type tableUpdates struct {
	updated, hot int64
	ok           bool
}

// grantUpdates returns the updates of the grants table of schema, as of
// now (a backend's counts reach it when the backend goes idle).
func grantUpdates(ctx context.Context, conn *pgx.Conn, schema string) tableUpdates {
	if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		return tableUpdates{}
	}
	var u tableUpdates
	err := conn.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
		WHERE schemaname = $1 AND relname = 'grants'`, schema).Scan(&u.updated, &u.hot)
	u.ok = err == nil
	return u
}

// openFlowStore opens a store in a schema of its own with 16 connections
// (the server's clients) and a statement counter.
func openFlowStore(b *testing.B) (*Store, string, *queryCounter) {
	name, dsn := newSchema(b)

	qc := &queryCounter{}
	s := open(b, dsn, WithPoolConfig(func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = qc
		c.MaxConns, c.MinConns = flowClients, flowClients
	}))
	return s, name, qc
}

// runClients runs b.N operations over flowClients goroutines; op gets the
// client's number and its operation's number.
func runClients(b *testing.B, op func(client, i int) error) {
	var next atomic.Int64
	errc := make(chan error, flowClients)
	for c := range flowClients {
		go func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					errc <- nil
					return
				}
				if err := op(c, i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for range flowClients {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefreshFlow is a refresh's store calls at the instance that
// stored the token (the server remembers it, server/unusedgrants.go): the
// rotation alone, with 16 clients each refreshing a family of its own.
// Until schema 12 and the server's memory of unused grants it was the
// grant read, then the rotation (a non-HOT update).
func BenchmarkRefreshFlow(b *testing.B) {
	s, app, qc := openFlowStore(b)
	ctx := b.Context()
	now := time.Now()
	seq := make([]int, flowClients) // each client's current token
	for c := range flowClients {
		if err := s.CreateGrant(ctx, granttest.RefreshToken(fmt.Sprint("fam-", c), 0, now)); err != nil {
			b.Fatal(err)
		}
	}
	m := startFlowMeter(b, app, qc)
	b.ResetTimer()
	runClients(b, func(c, _ int) error {
		fam := fmt.Sprint("fam-", c)
		cur := granttest.RefreshToken(fam, seq[c], now)
		if _, err := s.Rotate(ctx, cur.ID, now, granttest.RefreshToken(fam, seq[c]+1, now)); err != nil {
			return err
		}
		seq[c]++
		return nil
	})
	m.stop()
}

// BenchmarkSignInFlow is a sign-in's store calls as the server makes them
// for 16 users signing in from one address: the attempt taken on the
// three login budgets (the address's, shared by every client, the
// user's at the address, the user's), settled (the address's and the
// user's given back, the user's at the address reset), the session and
// its code stored, the code exchanged for a refresh token (the server
// remembers the code it stored: not read back).
func BenchmarkSignInFlow(b *testing.B) {
	s, app, qc := openFlowStore(b)
	ctx := b.Context()
	now := time.Now()
	m := startFlowMeter(b, app, qc)
	b.ResetTimer()
	runClients(b, func(c, i int) error {
		user := fmt.Sprint("login:user-", c)
		takes := []throttle.Take{{Key: "login:127.0.0.1", Max: 1 << 30, Window: time.Hour},
			{Key: user + "@127.0.0.1", Max: 1 << 30, Window: time.Hour}, {Key: user, Max: 1 << 30, Window: time.Hour}}
		if n, _, err := s.TakeAttempts(ctx, takes, now); err != nil || n != len(takes) {
			return fmt.Errorf("take: %d, %v", n, err)
		}
		if err := s.SettleAttempts(ctx, []throttle.Settle{{Key: takes[0].Key}, {Key: takes[1].Key, Reset: true}, {Key: takes[2].Key}}, now); err != nil {
			return err
		}
		sid := fmt.Sprint("sid-", i)
		code := granttest.Code(sid, fmt.Sprint("code-", i), now)
		if err := s.StartSession(ctx, grant.Grant{}, granttest.Session(sid, now), code); err != nil {
			return err
		}
		if _, err := s.Rotate(ctx, code.ID, now, granttest.RefreshToken(code.FamilyID, 0, now)); err != nil {
			return fmt.Errorf("exchange: %w", err)
		}
		return nil
	})
	m.stop()
}

// BenchmarkAttemptsFlow is the abuse budgets' part of BenchmarkSignInFlow
// alone: the attempt taken on the three login budgets and settled, by 16
// clients with a user each, all from one address (as the load benchmark
// signs in: every user behind it shares the address's row) or from an
// address each. The difference is what the clients' waits for the
// address's row lock cost PostgreSQL (docs/benchmarks.md).
func BenchmarkAttemptsFlow(b *testing.B) {
	for _, shared := range []bool{true, false} {
		name := "one-address"
		if !shared {
			name = "address-per-client"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			s, app, qc := openFlowStore(b)
			ctx := b.Context()
			now := time.Now()
			m := startFlowMeter(b, app, qc)
			b.ResetTimer()
			runClients(b, func(c, _ int) error {
				addr := "login:127.0.0.1"
				if !shared {
					addr = fmt.Sprint("login:10.0.0.", c)
				}
				user := fmt.Sprint("login:user-", c)
				takes := []throttle.Take{{Key: addr, Max: 1 << 30, Window: time.Hour},
					{Key: user + "@" + addr, Max: 1 << 30, Window: time.Hour}, {Key: user, Max: 1 << 30, Window: time.Hour}}
				if n, _, err := s.TakeAttempts(ctx, takes, now); err != nil || n != len(takes) {
					return fmt.Errorf("take: %d, %v", n, err)
				}
				return s.SettleAttempts(ctx, []throttle.Settle{{Key: takes[0].Key}, {Key: takes[1].Key, Reset: true}, {Key: takes[2].Key}}, now)
			})
			m.stop()
		})
	}
}
