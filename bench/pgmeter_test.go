package main

import (
	"strings"
	"testing"
	"time"
)

// PostgreSQL's costs are per completed operation, the schema's tables
// only where they changed, and unknown (-1) where a reading failed.
func TestPGCostsPer(t *testing.T) {
	a := pgSample{cpu: time.Second, cpuOK: true, own: 500 * time.Millisecond, ownOK: true, commits: 100, walSync: 10, walB: 1000, statsOK: true,
		tables: map[string]tableStats{"grants": {Scans: 10, Inserted: 5}, "attempts": {Scans: 3}}}
	b := pgSample{cpu: 3 * time.Second, cpuOK: true, own: 1500 * time.Millisecond, ownOK: true, commits: 2100, walSync: 510, walB: 3001000, statsOK: true,
		tables: map[string]tableStats{"grants": {Scans: 2010, Inserted: 1005, Updated: 1000, Deleted: 1000}, "attempts": {Scans: 3}}}
	c := pgCostsPer(a, b, 1000, 10*time.Second)
	if c.CPUMs != 2 || c.BackendCPUMs != 1 || c.CommitsOp != 2 || c.WALSyncsOp != 0.5 || c.WALBytesOp != 3000 || c.WALSyncsSec != 50 {
		t.Errorf("costs %+v", c)
	}
	if g := c.Tables["grants"]; g != (tableStats{Scans: 2, Inserted: 1, Updated: 1, Deleted: 1}) || len(c.Tables) != 1 {
		t.Errorf("tables %+v, want grants only: 2 scans, 1 inserted, updated, deleted", c.Tables)
	}
	var out strings.Builder
	writePGCosts(&out, []statefulRow{{Server: "signet", Cores: 1, Flow: "refresh", ServerCPUMs: 0.3, LoadCPUMs: 0.2, PG: &c},
		{Server: "oidc-provider", Store: "memory", Cores: 1, Flow: "refresh", ServerCPUMs: 0.6}})
	if s := out.String(); !strings.Contains(s, "postgres signet 1 core(s) refresh: PostgreSQL CPU 2.000 ms/op, 1.000 of it the server's backends (server + PostgreSQL 2.300 ms/op)") ||
		!strings.Contains(s, "table grants per op: 2.00 scans, 1.00 inserted, 1.00 updated (0.00 HOT), 1.00 deleted") ||
		!strings.Contains(s, "server + PostgreSQL + load 2.500 ms of CPU per op: two CPUs give at most 800/s") ||
		!strings.Contains(s, "against oidc-provider (memory): 0.600 ms of server CPU per op; Signet with PostgreSQL 3.83x that, Signet alone 0.50x") ||
		strings.Count(s, "\n") != 4 {
		t.Errorf("report:\n%s", s)
	}
	a.cpuOK, b.statsOK = false, false
	if c := pgCostsPer(a, b, 1000, time.Second); c.CPUMs != -1 || c.CommitsOp != -1 || c.WALSyncsOp != -1 || c.BackendCPUMs != 1 {
		t.Errorf("with readings missing: %+v", c)
	}
}
