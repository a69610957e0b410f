package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// request is one HTTP/1.1 request, serialized once and sent as is on
// every iteration.
type request struct {
	raw        []byte
	wantStatus int
	// wantBody, when set, is the only body runLoad and runNetLoad accept
	// in an answer (Content-Length framing): e.g. an introspection's
	// answer for an active token, checked once before the window
	// (checkIntrospection), so a server that starts answering anything
	// else counts errors instead of looking fast.
	wantBody []byte
	// pool, when set, holds requests sent in turn instead of raw, each
	// once (a client assertion is single use), across the phases that
	// send this request (a disturbed window measured again); after the
	// last, from the first again, which the server refuses as replays.
	pool *requestPool
}

// answers reports whether resp, one whole response whose status is
// status, is an answer r wants: its status, and its body when r has a
// wantBody (what follows the header's blank line, framed by
// Content-Length).
func (r request) answers(status int, resp []byte) bool {
	if status != r.wantStatus {
		return false
	}
	if r.wantBody == nil {
		return true
	}
	head, ok := bytes.CutSuffix(resp, r.wantBody)
	return ok && bytes.HasSuffix(head, []byte("\r\n\r\n"))
}

// requestPool is the requests of request.pool and the next to send.
type requestPool struct {
	raw  [][]byte
	next int
}

// newRequest serializes a request. body may be empty; headers are "Name:
// value" lines.
func newRequest(method, path string, headers []string, body string, wantStatus int) request {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	if method == "POST" || body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return request{raw: b.Bytes(), wantStatus: wantStatus}
}

// loadSpec is one phase of load.
type loadSpec struct {
	addr string
	req  request
	// reqs, when set, replaces req: connection i sends reqs[i%len(reqs)]
	// (e.g. each client its own token); their pools are ignored.
	reqs        []request
	connections int
	warmup      time.Duration
	window      time.Duration // measured window; ignored when limit > 0
	limit       int64         // long mode: send this many requests in total, all measured
	serverPID   int           // measured for its CPU share (0: none)
	// progress, when set, is called about every 100ms with the number of
	// answers so far (long mode).
	progress func(done int64)
}

// loadResult is what a phase measured.
type loadResult struct {
	Requests int64         // answers counted in the window
	Errors   int64         // of which with an unexpected status
	Elapsed  time.Duration // the window
	Hist     *histogram
	// CPU is the CPU use in the window.
	CPU cpuShares
}

// Rate returns answers per second.
func (r *loadResult) Rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// combine returns the result of r's and b's windows taken together.
func (r *loadResult) combine(b *loadResult) *loadResult {
	out := &loadResult{Requests: r.Requests + b.Requests, Errors: r.Errors + b.Errors, Elapsed: r.Elapsed + b.Elapsed, Hist: &histogram{}}
	out.Hist.merge(r.Hist)
	out.Hist.merge(b.Hist)
	wa, wb := r.Elapsed.Seconds(), b.Elapsed.Seconds()
	avg := func(x, y float64) float64 {
		if x < 0 || y < 0 {
			return -1
		}
		return (x*wa + y*wb) / (wa + wb)
	}
	a, c := r.CPU, b.CPU
	out.CPU = cpuShares{server: avg(a.server, c.server), load: avg(a.load, c.load), other: avg(a.other, c.other),
		loadOther: avg(a.loadOther, c.loadOther), serverIdle: avg(a.serverIdle, c.serverIdle), loadIdle: avg(a.loadIdle, c.loadIdle)}
	return out
}

// ioTimeout bounds every request: a server that stops answering ends the
// phase with an error instead of hanging it.
const ioTimeout = 10 * time.Second

// maxResponse bounds one response (headers and body).
const maxResponse = 256 << 10

// conn is one keep-alive connection of the load generator: a non-blocking
// socket outside Go's network poller.
type conn struct {
	fd   int
	req  request // what it sends
	buf  []byte  // the answer received so far
	n    int
	sent time.Time // when the request in flight was sent
	busy bool      // a request is in flight
}

// runLoad drives a closed loop: spec.connections keep-alive connections,
// each sending its next request as soon as the previous answer arrived.
// It warms up, then counts the answers of the window (or, with a limit,
// sends that many requests and counts them all).
//
// One goroutine polls every socket without blocking, so the load
// generator's CPU never sleeps: an answer never has to wake it. On a
// virtual machine waking an idle CPU costs the sender several
// microseconds; a blocking client would charge that to the server, more
// in phases where the client idles more (slow tokens) than in others
// (the floor), and skew the comparison. The price is a load CPU at 100%
// during every phase.
func runLoad(ctx context.Context, spec loadSpec) (*loadResult, error) {
	conns := make([]*conn, 0, spec.connections)
	defer func() {
		for _, c := range conns {
			unix.Close(c.fd)
		}
	}()
	for range spec.connections {
		fd, err := dialRaw(spec.addr)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", spec.addr, err)
		}
		req := spec.req
		if len(spec.reqs) > 0 {
			req = spec.reqs[len(conns)%len(spec.reqs)]
			req.pool = nil
		}
		conns = append(conns, &conn{fd: fd, req: req, buf: make([]byte, maxResponse)})
	}

	res := &loadResult{Hist: &histogram{}}
	start := time.Now()
	from, to := start.Add(spec.warmup), start.Add(spec.warmup+spec.window)
	if spec.limit > 0 {
		from, to = start, start.Add(100*365*24*time.Hour)
	}
	var (
		measuring bool
		t0        time.Time
		meter     *cpuMeter
		issued    int64
		answered  int64
		inflight  int
		nextTick  = start
	)
	send := func(c *conn, now time.Time) error {
		raw := c.req.raw
		if p := c.req.pool; p != nil {
			raw = p.raw[p.next%len(p.raw)]
			p.next++
		}
		if err := writeAll(c.fd, raw); err != nil {
			return err
		}
		c.sent, c.busy, c.n = now, true, 0
		issued++
		inflight++
		return nil
	}
	for _, c := range conns {
		if spec.limit > 0 && issued >= spec.limit {
			break
		}
		if err := send(c, start); err != nil {
			return nil, err
		}
	}
	for iter := 0; ; iter++ {
		now := time.Now()
		if !measuring && !now.Before(from) {
			measuring, t0, meter = true, now, startCPUMeter(spec.serverPID)
		}
		if !now.Before(to) || spec.limit > 0 && inflight == 0 {
			break
		}
		if iter&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if spec.progress != nil && now.After(nextTick) {
			spec.progress(answered)
			nextTick = now.Add(100 * time.Millisecond)
		}
		for _, c := range conns {
			if !c.busy {
				continue
			}
			n, err := unix.Read(c.fd, c.buf[c.n:])
			if err == unix.EAGAIN || err == unix.EINTR {
				if now.Sub(c.sent) > ioTimeout {
					return nil, fmt.Errorf("load on %s: no answer within %s", spec.addr, ioTimeout)
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("load on %s: read: %w", spec.addr, err)
			}
			if n == 0 {
				return nil, fmt.Errorf("load on %s: the server closed a keep-alive connection", spec.addr)
			}
			c.n += n
			size, status, closeConn, err := parseResponse(c.buf[:c.n])
			if err != nil {
				return nil, fmt.Errorf("load on %s: %w", spec.addr, err)
			}
			if size == 0 {
				if c.n == len(c.buf) {
					return nil, fmt.Errorf("load on %s: an answer exceeds %d bytes", spec.addr, maxResponse)
				}
				continue
			}
			if size != c.n || closeConn {
				return nil, fmt.Errorf("load on %s: unexpected bytes after an answer, or Connection: close", spec.addr)
			}
			done := time.Now()
			c.busy = false
			inflight--
			answered++
			if measuring && done.Before(to) {
				res.Requests++
				if !c.req.answers(status, c.buf[:c.n]) {
					res.Errors++
				}
				res.Hist.record(done.Sub(c.sent))
			}
			if spec.limit > 0 && issued >= spec.limit {
				continue
			}
			if err := send(c, done); err != nil {
				return nil, fmt.Errorf("load on %s: write: %w", spec.addr, err)
			}
		}
	}
	res.Elapsed = time.Since(t0)
	if meter != nil {
		res.CPU = meter.shares()
	}
	if res.Requests == 0 {
		return nil, fmt.Errorf("load on %s: no answer in the window", spec.addr)
	}
	return res, nil
}

// dialRaw opens a blocking TCP connection with TCP_NODELAY (as Go's net
// package does), then makes it non-blocking.
func dialRaw(addr string) (int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return -1, err
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, err
	}
	ok := false
	defer func() {
		if !ok {
			unix.Close(fd)
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return -1, err
	}
	tv := unix.NsecToTimeval(ioTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil { // bounds connect
		return -1, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return -1, err
	}
	ok = true
	return fd, nil
}

// writeAll writes b to a non-blocking socket, retrying while its buffer
// is full, for at most ioTimeout.
func writeAll(fd int, b []byte) error {
	deadline := time.Time{}
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EAGAIN || err == unix.EINTR {
			if deadline.IsZero() {
				deadline = time.Now().Add(ioTimeout)
			} else if time.Now().After(deadline) {
				return errors.New("the server does not read its requests")
			}
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// parseResponse parses the HTTP/1.1 response at the start of buf. size is
// its length, 0 while it is incomplete. It understands Content-Length,
// chunked bodies and bodiless statuses, and reports whether the server
// asked to close the connection.
func parseResponse(buf []byte) (size, status int, closeConn bool, err error) {
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, 0, false, nil
	}
	head := buf[:end]
	bodyStart := end + 4
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	length, chunked := -1, false
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, val, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, 0, false, fmt.Errorf("malformed header %q", h)
		}
		val = bytes.TrimSpace(val)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(val)); err != nil || length < 0 {
				return 0, 0, false, fmt.Errorf("malformed Content-Length %q", val)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(val, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closeConn = bytes.EqualFold(val, []byte("close"))
		}
	}
	switch {
	case status == 204 || status == 304 || status < 200:
		return bodyStart, status, closeConn, nil
	case chunked:
		n, err := chunkedSize(buf[bodyStart:])
		if n == 0 || err != nil {
			return 0, 0, false, err
		}
		return bodyStart + n, status, closeConn, nil
	case length >= 0:
		if len(buf) < bodyStart+length {
			return 0, 0, false, nil
		}
		return bodyStart + length, status, closeConn, nil
	}
	return 0, 0, false, errors.New("an answer without a length on a keep-alive connection")
}

// chunkedSize returns the length of the complete chunked body at the
// start of b (trailers included), 0 while it is incomplete.
func chunkedSize(b []byte) (int, error) {
	off := 0
	for {
		i := bytes.Index(b[off:], []byte("\r\n"))
		if i < 0 {
			return 0, nil
		}
		line := b[off : off+i]
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("malformed chunk size %q", line)
		}
		off += i + 2
		if n == 0 { // trailers, then an empty line
			for {
				k := bytes.Index(b[off:], []byte("\r\n"))
				if k < 0 {
					return 0, nil
				}
				off += k + 2
				if k == 0 {
					return off, nil
				}
			}
		}
		if len(b) < off+int(n)+2 {
			return 0, nil
		}
		off += int(n) + 2
	}
}

// fetch sends one request on a fresh connection and returns the status,
// the headers (lower-case names) and the body, for checks between phases.
func fetch(addr string, req request) (status int, header map[string]string, body []byte, err error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return 0, nil, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(req.raw); err != nil {
		return 0, nil, nil, err
	}
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= 4<<20 {
				return 0, nil, nil, errors.New("answer too large")
			}
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		size, status, _, perr := parseResponse(buf)
		if perr != nil {
			return 0, nil, nil, perr
		}
		if size > 0 {
			end := bytes.Index(buf, []byte("\r\n\r\n"))
			header = map[string]string{}
			lines := bytes.Split(buf[:end], []byte("\r\n"))
			for _, h := range lines[1:] {
				name, val, _ := bytes.Cut(h, []byte(":"))
				header[string(bytes.ToLower(name))] = string(bytes.TrimSpace(val))
			}
			return status, header, buf[end+4 : size], nil
		}
		if err != nil {
			return 0, nil, nil, err
		}
	}
}
