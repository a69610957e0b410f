package main

import (
	"context"
	"time"
)

// windowProbe takes the figures of one measured window of `bench
// stateful` that do not come from the load itself: the server's and this
// process's CPU, the Go runtime figures (runtimestats.go), the SQLite
// store's write counters (storestats.go), PostgreSQL's costs
// (pgmeter.go), the server's RSS, and the store's rows and bytes. Both
// load generators use it (measureFlow, Go's HTTP client; measureIntrospect,
// runNetLoad), so their rows carry the same figures measured the same way.
//
// Its life: newWindowProbe after the warm-up (it reads the store's size),
// begin when the window starts, sampleRSS during it, stop when it ends,
// finish once the number of operations is known, and size once the
// clients stopped.
type windowProbe struct {
	ctx   context.Context
	st    *benchStore // nil: the peer
	admin string      // the server's admin listener ("": none)
	pid   int

	rows0, bytes0 int64
	sizeErr       error

	rt                 *windowStats
	store0, store1     storeCounters
	storeOK            bool
	srvCPU0, srvCPU1   time.Duration
	srvErr             error
	loadCPU0, loadCPU1 time.Duration
	pg0, pg1           pgSample
	start              time.Time
	elapsed            time.Duration
}

// newWindowProbe reads the store's size before the window.
func newWindowProbe(ctx context.Context, st *benchStore, admin string, pid int) *windowProbe {
	p := &windowProbe{ctx: ctx, st: st, admin: admin, pid: pid}
	if st != nil {
		p.rows0, p.bytes0, p.sizeErr = st.size(ctx)
	}
	return p
}

// begin samples everything at the start of the window and row's RSS.
func (p *windowProbe) begin(row *statefulRow) {
	p.rt = startWindowStats(p.admin, p.pid)
	var err error
	p.store0, err = scrapeStore(p.admin) // nil without a SQLite store
	p.storeOK = err == nil && p.store0 != nil
	p.srvCPU0, p.srvErr = procCPU(p.pid)
	p.loadCPU0 = selfCPU()
	if p.st != nil && p.st.pg != nil {
		p.pg0 = readPG(p.ctx, p.st.pg, p.st.app, p.st.schema)
	}
	p.start = time.Now()
	row.RSSStartMiB = p.rss()
	row.RSSMaxMiB = row.RSSStartMiB
}

// sampleRSS records the server's RSS in row's maximum.
func (p *windowProbe) sampleRSS(row *statefulRow) { row.RSSMaxMiB = max(row.RSSMaxMiB, p.rss()) }

func (p *windowProbe) rss() float64 {
	b, err := procRSS(p.pid)
	if err != nil {
		return 0
	}
	return round(mib(b), 1)
}

// stop samples everything at the end of the window, and row's RSS.
func (p *windowProbe) stop(row *statefulRow) {
	p.elapsed = time.Since(p.start)
	if srv1, err := procCPU(p.pid); p.srvErr == nil {
		p.srvCPU1, p.srvErr = srv1, err
	}
	p.loadCPU1 = selfCPU()
	if p.storeOK {
		p.store1, _ = scrapeStore(p.admin)
	}
	if p.st != nil && p.st.pg != nil {
		p.pg1 = readPG(p.ctx, p.st.pg, p.st.app, p.st.schema)
	}
	p.rt.stop()
	row.RSSEndMiB = p.rss()
	row.RSSMaxMiB = max(row.RSSMaxMiB, row.RSSEndMiB)
}

// finish writes the window's figures per operation into row (n
// operations counted in the window).
func (p *windowProbe) finish(row *statefulRow, n int64) {
	if p.st != nil && p.st.pg != nil {
		c := pgCostsPer(p.pg0, p.pg1, n, p.elapsed)
		row.PG = &c
	}
	if p.storeOK && p.store1 != nil {
		row.StoreStats = windowStoreStats(p.store0, p.store1, n)
	}
	if p.srvErr == nil && n > 0 {
		row.ServerCPUMs = round(float64((p.srvCPU1-p.srvCPU0).Microseconds())/1000/float64(n), 3)
		row.LoadCPUMs = round(float64((p.loadCPU1-p.loadCPU0).Microseconds())/1000/float64(n), 3)
	}
	p.rt.finish(row, n)
}

// size writes the store's rows and bytes per 1,000 operations into row,
// once the clients stopped. Operations after the window (until every
// client stopped) are few against the window's; they are counted in the
// store but not in n, so the figures lean high, not low.
func (p *windowProbe) size(row *statefulRow, n int64) {
	if p.st == nil || p.sizeErr != nil || n <= 0 {
		return
	}
	rows1, bytes1, err := p.st.size(p.ctx)
	if err == nil {
		row.RowsPer1000 = float64(rows1-p.rows0) / float64(n) * 1000
		row.BytesPer1000 = float64(bytes1-p.bytes0) / float64(n) * 1000
	}
}
