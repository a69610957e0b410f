package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-id/signet/internal/procstat"
)

// What PostgreSQL itself spends on a flow. PostgreSQL runs on the same
// machine as the server and the load generator, on no CPU of its own (the
// benchmark does not pin it): its CPU time is taken from the two CPUs the
// server and the load share, and a fair comparison with a peer that
// stores nothing in a database has to count it. pgMeter reads, over a
// window:
//   - the CPU time of every PostgreSQL process (/proc: the backends, the
//     WAL writer, the checkpointer, ...; a process that ended in the window
//     counts through its parent's cutime/cstime);
//   - the database's committed transactions (pg_stat_database.xact_commit:
//     every statement outside a transaction block is one, so this counts
//     the round trips that reached PostgreSQL, reads included);
//   - the WAL flushes (pg_stat_wal.wal_sync) and WAL bytes.
// PostgreSQL's statistics reach the views up to a second late (idle
// backends report them at most once a second); meter windows of 10 s or
// more keep that error small. Other clients of the same PostgreSQL (other
// benchmarks, tests) count too: on a quiet machine there are none.

// pgSample is one reading.
type pgSample struct {
	cpu     time.Duration // every PostgreSQL process
	cpuOK   bool
	own     time.Duration // the backends of the server's connections
	ownOK   bool
	commits int64
	walSync int64
	walB    int64
	statsOK bool
	tables  map[string]tableStats // the schema's tables
}

// tableStats are a table's counters in pg_stat_user_tables: scans (index
// and sequential) and rows inserted, updated (HOT or not) and deleted.
type tableStats struct {
	Scans, Inserted, Updated, HOTUpdated, Deleted float64
}

// pgCosts are PostgreSQL's costs per completed operation (-1: unknown).
type pgCosts struct {
	// Tables are the schema's tables' counters per operation, those
	// that changed.
	Tables       map[string]tableStats `json:"tables,omitempty"`
	CPUMs        float64               // every PostgreSQL process
	BackendCPUMs float64               // the backends serving the server's connections
	CommitsOp    float64
	WALSyncsOp   float64
	WALBytesOp   float64
	WALSyncsSec  float64
}

// readPG reads the CPU of PostgreSQL's processes and, through conn, its
// statistics (the stats snapshot is cleared first, so the numbers are
// current).
func readPG(ctx context.Context, conn *pgx.Conn, app, schema string) pgSample {
	var s pgSample
	s.cpu, s.cpuOK = postgresCPU()
	if conn == nil {
		return s
	}
	_, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
	if err == nil {
		var pids []int32
		if err := conn.QueryRow(ctx, `SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&pids); err == nil && len(pids) > 0 {
			s.ownOK = true
			for _, pid := range pids {
				d, err := procCPU(int(pid))
				if err != nil {
					s.ownOK = false
					break
				}
				s.own += d
			}
		}
	}
	if err == nil {
		err = conn.QueryRow(ctx, `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
			wal_sync, wal_bytes::bigint FROM pg_stat_wal`).Scan(&s.commits, &s.walSync, &s.walB)
	}
	s.statsOK = err == nil
	if err == nil {
		rows, err := conn.Query(ctx, `SELECT relname, COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0), n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del
			FROM pg_stat_user_tables WHERE schemaname = $1`, schema)
		if err == nil {
			s.tables = map[string]tableStats{}
			for rows.Next() {
				var (
					name string
					ts   tableStats
					c    [5]int64
				)
				if rows.Scan(&name, &c[0], &c[1], &c[2], &c[3], &c[4]) == nil {
					ts = tableStats{float64(c[0]), float64(c[1]), float64(c[2]), float64(c[3]), float64(c[4])}
					s.tables[name] = ts
				}
			}
			rows.Close()
		}
	}
	return s
}

// pgCostsPer returns the costs between a and b per op over wall.
func pgCostsPer(a, b pgSample, n int64, wall time.Duration) pgCosts {
	c := pgCosts{CPUMs: -1, BackendCPUMs: -1, CommitsOp: -1, WALSyncsOp: -1, WALBytesOp: -1, WALSyncsSec: -1}
	if n <= 0 {
		return c
	}
	if a.cpuOK && b.cpuOK {
		c.CPUMs = round(float64((b.cpu-a.cpu).Microseconds())/1000/float64(n), 3)
	}
	if a.ownOK && b.ownOK && b.own >= a.own { // the same backends (the pool keeps its connections)
		c.BackendCPUMs = round(float64((b.own-a.own).Microseconds())/1000/float64(n), 3)
	}
	if a.statsOK && b.statsOK {
		c.CommitsOp = round(float64(b.commits-a.commits)/float64(n), 2)
		c.WALSyncsOp = round(float64(b.walSync-a.walSync)/float64(n), 3)
		c.WALBytesOp = round(float64(b.walB-a.walB)/float64(n), 0)
		c.WALSyncsSec = round(float64(b.walSync-a.walSync)/wall.Seconds(), 0)
	}
	for name, t1 := range b.tables {
		t0 := a.tables[name]
		d := tableStats{round((t1.Scans-t0.Scans)/float64(n), 2), round((t1.Inserted-t0.Inserted)/float64(n), 2),
			round((t1.Updated-t0.Updated)/float64(n), 2), round((t1.HOTUpdated-t0.HOTUpdated)/float64(n), 2), round((t1.Deleted-t0.Deleted)/float64(n), 2)}
		if d != (tableStats{}) {
			if c.Tables == nil {
				c.Tables = map[string]tableStats{}
			}
			c.Tables[name] = d
		}
	}
	return c
}

// postgresCPU sums the user and system CPU time of every process named
// postgres and, for the postmaster (a postgres process whose parent is
// not one), the CPU of its children that ended.
func postgresCPU() (time.Duration, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	procs := map[int]procstat.Stat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		if st, err := procstat.Read(pid); err == nil && st.Name == "postgres" { // an error: ended since the listing
			procs[pid] = st
		}
	}
	if len(procs) == 0 {
		return 0, false
	}
	var total time.Duration
	for _, p := range procs {
		total += p.CPU()
		if _, child := procs[p.PPID]; !child {
			total += p.ChildUser + p.ChildSystem
		}
	}
	return total, true
}

// writePGCosts prints PostgreSQL's costs per operation for the rows that
// have them, and the server's and PostgreSQL's CPU together.
func writePGCosts(w io.Writer, rows []statefulRow) {
	for _, r := range rows {
		if r.PG == nil || r.Error != "" {
			continue
		}
		fmt.Fprintf(w, "postgres %s %d core(s) %s: PostgreSQL CPU %.3f ms/op, %.3f of it the server's backends (server + PostgreSQL %.3f ms/op), %.2f commits/op, %.3f WAL flushes/op (%.0f/s), %.0f WAL bytes/op\n",
			r.Server, r.Cores, r.Flow, r.PG.CPUMs, r.PG.BackendCPUMs, r.ServerCPUMs+r.PG.CPUMs, r.PG.CommitsOp, r.PG.WALSyncsOp, r.PG.WALSyncsSec, r.PG.WALBytesOp)
		if r.Cores == 1 && r.PG.CPUMs > 0 && r.LoadCPUMs > 0 {
			// Server, load and PostgreSQL share the machine's two CPUs
			// (the server is pinned to one, PostgreSQL is not).
			fmt.Fprintf(w, "  server + PostgreSQL + load %.3f ms of CPU per op: two CPUs give at most %.0f/s\n",
				r.ServerCPUMs+r.PG.CPUMs+r.LoadCPUMs, 2000/(r.ServerCPUMs+r.PG.CPUMs+r.LoadCPUMs))
			for _, p := range rows {
				if p.Server != r.Server && p.PG == nil && p.Cores == r.Cores && p.Flow == r.Flow && p.Error == "" && p.ServerCPUMs > 0 {
					fmt.Fprintf(w, "  against %s (%s): %.3f ms of server CPU per op; Signet with PostgreSQL %.2fx that, Signet alone %.2fx\n",
						p.Server, p.Store, p.ServerCPUMs, (r.ServerCPUMs+r.PG.CPUMs)/p.ServerCPUMs, r.ServerCPUMs/p.ServerCPUMs)
				}
			}
		}
		names := slices.Sorted(maps.Keys(r.PG.Tables))
		for _, name := range names {
			t := r.PG.Tables[name]
			fmt.Fprintf(w, "  table %s per op: %.2f scans, %.2f inserted, %.2f updated (%.2f HOT), %.2f deleted\n", name, t.Scans, t.Inserted, t.Updated, t.HOTUpdated, t.Deleted)
		}
	}
}
