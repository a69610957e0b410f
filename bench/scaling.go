package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The scaling mode's load generator (bench stateful --cores 1,2, the
// client_credentials flows). With two cores the server and the load share
// both CPUs, so every microsecond the load spends per request is taken
// from the server: sharing them, the server can have at most 2·s/(s+l) of
// the CPUs for s and l CPU per request. Go's HTTP client costs about what
// the server does per ES256 token (ceiling about 1.1×), and runLoad's
// loader spins on one CPU by design. runNetLoad sends pre-built requests
// on keep-alive connections through Go's net package, so a connection
// waiting for its answers sleeps in the network poller instead of
// spinning, parses only the status line and the framing (parseResponse),
// and can send several requests back to back (HTTP/1.1 pipelining, which
// Go's server answers in order), one write for all of them.

// netLoadSpec is one phase of runNetLoad.
type netLoadSpec struct {
	addr string
	req  request // raw, wantStatus and wantBody; pool is not supported
	// reqs, when set, replaces req: connection i sends reqs[i%len(reqs)]
	// (e.g. each client its own token).
	reqs        []request
	connections int
	// depth is how many requests each connection sends at once before
	// reading their answers (1: no pipelining).
	depth     int
	warmup    time.Duration
	window    time.Duration
	serverPID int // measured for its CPU share (0: none)
	// onBegin and onEnd, when set, are called as the window begins and
	// as it ends (windowProbe).
	onBegin, onEnd func()
}

// netConnStats is one connection's count over the window.
type netConnStats struct {
	requests, errors int64
	hist             histogram
}

// runNetLoad drives a closed loop: spec.connections keep-alive
// connections, each sending spec.depth requests in one write and sending
// the next batch when all their answers arrived. It counts the answers
// that arrive in the window, after the warm-up. An answer's latency runs
// from its batch's write.
func runNetLoad(ctx context.Context, spec netLoadSpec) (*loadResult, error) {
	reqs := spec.reqs
	if len(reqs) == 0 {
		reqs = []request{spec.req}
	}
	for _, r := range reqs {
		if r.pool != nil {
			return nil, errors.New("runNetLoad: a request pool is not supported")
		}
	}
	depth := max(spec.depth, 1)
	// One P: a connection's answer wakes the one thread that sleeps in
	// the network poller, instead of a second thread woken through a
	// futex to run it, which costs more than the answer's handling.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	conns := make([]net.Conn, 0, spec.connections)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range spec.connections {
		c, err := net.DialTimeout("tcp", spec.addr, ioTimeout)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", spec.addr, err)
		}
		conns = append(conns, c)
	}
	var (
		measuring, stop atomic.Bool
		wg              sync.WaitGroup
		stats           = make([]netConnStats, len(conns))
		errs            = make([]error, len(conns))
	)
	var (
		meter   *cpuMeter
		t0      time.Time
		elapsed time.Duration
	)
	begin := func() {
		if spec.onBegin != nil {
			spec.onBegin()
		}
		meter, t0 = startCPUMeter(spec.serverPID), time.Now()
		measuring.Store(true)
	}
	if spec.warmup <= 0 { // every answer counts
		begin()
	}
	failed := make(chan struct{}) // closed when a connection fails: the phase ends
	var failOnce sync.Once
	for i, c := range conns {
		wg.Go(func() {
			errs[i] = netLoadConn(c, reqs[i%len(reqs)], depth, &measuring, &stop, &stats[i])
			if !errors.Is(errs[i], errStopped) {
				stop.Store(true)
				failOnce.Do(func() { close(failed) })
			}
		})
	}
	sleep := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-failed:
		case <-t.C:
		}
		return nil
	}
	var err error
	if spec.warmup > 0 {
		if err = sleep(spec.warmup); err == nil && !stop.Load() {
			begin()
		}
	}
	if meter != nil {
		err = sleep(spec.window)
		measuring.Store(false)
		elapsed = time.Since(t0)
		if spec.onEnd != nil {
			spec.onEnd()
		}
	}
	res := &loadResult{Hist: &histogram{}, Elapsed: elapsed}
	if meter != nil {
		res.CPU = meter.shares()
	}
	stop.Store(true)
	for _, c := range conns { // wakes connections waiting for answers
		c.SetDeadline(time.Now())
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	for i := range stats {
		if errs[i] != nil && !errors.Is(errs[i], errStopped) {
			return nil, fmt.Errorf("load on %s: %w", spec.addr, errs[i])
		}
		res.Requests += stats[i].requests
		res.Errors += stats[i].errors
		res.Hist.merge(&stats[i].hist)
	}
	if res.Requests == 0 {
		return nil, fmt.Errorf("load on %s: no answer in the window", spec.addr)
	}
	return res, nil
}

// errStopped is how a connection ends when the phase is over.
var errStopped = errors.New("stopped")

// netLoadConn is one connection's loop of runNetLoad: it sends depth
// copies of req at once and counts an answer whose status is not
// req.wantStatus, or whose body is not req.wantBody when that is set, as
// an error.
func netLoadConn(c net.Conn, req request, depth int, measuring, stop *atomic.Bool, st *netConnStats) error {
	batch := bytes.Repeat(req.raw, depth)
	buf := make([]byte, maxResponse)
	for !stop.Load() {
		sent := time.Now()
		if err := c.SetDeadline(sent.Add(ioTimeout)); err != nil {
			return err
		}
		if _, err := c.Write(batch); err != nil {
			return stoppedOr(stop, fmt.Errorf("write: %w", err))
		}
		n := 0 // bytes in buf
		for got := 0; got < depth; {
			if n == len(buf) {
				return fmt.Errorf("an answer exceeds %d bytes", maxResponse)
			}
			r, err := c.Read(buf[n:])
			n += r
			for n > 0 && got < depth {
				size, status, closeConn, perr := parseResponse(buf[:n])
				if perr != nil {
					return perr
				}
				if size == 0 {
					break
				}
				if closeConn {
					return errors.New("the server asked to close a keep-alive connection")
				}
				got++
				if measuring.Load() {
					st.requests++
					if !req.answers(status, buf[:size]) {
						st.errors++
					}
					st.hist.record(time.Since(sent))
				}
				n = copy(buf, buf[size:n])
			}
			if got == depth && n > 0 {
				return fmt.Errorf("%d bytes after the last answer of a batch", n)
			}
			if err != nil && got < depth {
				if r == 0 && errors.Is(err, io.EOF) {
					return errors.New("the server closed a keep-alive connection")
				}
				return stoppedOr(stop, fmt.Errorf("read: %w", err))
			}
		}
	}
	return errStopped
}

// stoppedOr is errStopped when the phase is over (its end interrupts
// reads and writes), else err.
func stoppedOr(stop *atomic.Bool, err error) error {
	if stop.Load() {
		return errStopped
	}
	return err
}

// clientCredentialsRequest is the serialized client_credentials request
// of the stateful flows for tokens signed with alg (ES256 or RS256).
func clientCredentialsRequest(secret, alg string) request {
	scope := "api.read" // the default key: ES256
	if alg == "RS256" {
		scope = "rs256.read"
	}
	auth := base64.StdEncoding.EncodeToString([]byte(statefulService + ":" + secret))
	return newRequest("POST", "/connect/token", []string{"Authorization: Basic " + auth, "Content-Type: application/x-www-form-urlencoded"},
		"grant_type=client_credentials&scope="+scope, 200)
}

// checkTokenRequest sends req once and checks that it gets an access
// token signed with alg.
func checkTokenRequest(addr string, req request, alg string) error {
	status, _, body, err := fetch(addr, req)
	if err != nil {
		return err
	}
	var t tokens
	if status != req.wantStatus || json.Unmarshal(body, &t) != nil || t.AccessToken == "" {
		return fmt.Errorf("token: %d %.200s", status, body)
	}
	return checkAlg(t.AccessToken, alg)
}

// measureNetLoadFlow measures a client_credentials flow with runNetLoad
// (depth o.pipeline).
func measureNetLoadFlow(ctx context.Context, o *statefulOptions, row statefulRow, addr, secret, alg string, pid int) statefulRow {
	req := clientCredentialsRequest(secret, alg)
	if err := checkTokenRequest(addr, req, alg); err != nil {
		row.Error = err.Error()
		return row
	}
	rss := func() float64 {
		b, err := procRSS(pid)
		if err != nil {
			return 0
		}
		return round(mib(b), 1)
	}
	row.RSSStartMiB = rss()
	res, err := runNetLoad(ctx, netLoadSpec{addr: addr, req: req, connections: o.connections, depth: o.pipeline,
		warmup: o.warmup, window: o.duration, serverPID: pid})
	if err != nil {
		row.Error = err.Error()
		return row
	}
	row.RSSEndMiB = rss()
	row.RSSMaxMiB = max(row.RSSStartMiB, row.RSSEndMiB)
	row.PerSecond = res.Rate()
	row.P50Ms = float64(res.Hist.quantile(0.50).Microseconds()) / 1000
	row.P99Ms = float64(res.Hist.quantile(0.99).Microseconds()) / 1000
	row.Errors = res.Errors
	perOp := res.Elapsed.Seconds() * 1000 / float64(res.Requests) // ms of one CPU per op at a share of 1
	if res.CPU.server >= 0 {
		row.ServerCPUMs = round(res.CPU.server*perOp, 4)
	}
	row.LoadCPUMs = round(res.CPU.load*perOp, 4)
	if res.Errors*100 >= res.Requests {
		row.Error = fmt.Sprintf("%d of %d answers with an unexpected status", res.Errors, res.Requests)
	}
	row.Load1 = loadAverage()
	return row
}

// netLoadFlows are the flows measured with runNetLoad, and the algorithm
// of their tokens.
var netLoadFlows = map[string]string{"client_credentials": "ES256", flowCCRS256: "RS256"}

// writeBusyCPUs prints how many CPUs the server kept busy with 1 core
// and with 2 (rate × server CPU per op): the factor is their ratio times
// that of the CPU per op, so a lock that left CPUs idle, or work that grew
// with the second core, shows here.
func writeBusyCPUs(w io.Writer, one, two statefulRow) {
	if one.ServerCPUMs <= 0 {
		return
	}
	fmt.Fprintf(w, "; the server kept %.2f CPUs busy with 2 cores, %.2f with 1 (%.3f ms per op)",
		two.PerSecond*two.ServerCPUMs/1000, one.PerSecond*one.ServerCPUMs/1000, one.ServerCPUMs)
}
