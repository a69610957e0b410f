package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scriptedServer is a raw HTTP/1.1 server for runNetLoad's tests: on
// each connection it reads until it holds depth whole requests, then
// answers them all in one write, framed in turn with Content-Length,
// chunked (with a trailer) and 204, every fifth with status 500, split
// across two writes in the middle. After limit answers in all it stops
// answering (or closes the connection). A loader that waited for an answer before sending the next
// request would get none.
type scriptedServer struct {
	ln       net.Listener
	depth    int
	limit    int64
	answered atomic.Int64
	errors   atomic.Int64 // the 500s among the answers
	extra    string       // sent after each batch (a broken server)
	// closeAtLimit: close the connection instead of answering beyond
	// limit (else keep it open, silent).
	closeAtLimit bool
	wg           sync.WaitGroup
}

func newScriptedServer(t *testing.T, depth int, limit int64) *scriptedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{ln: ln, depth: depth, limit: limit}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *scriptedServer) serve(c net.Conn) {
	defer c.Close()
	var pending []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		pending = append(pending, buf[:n]...)
		if bytes.Count(pending, []byte("\r\n\r\nx")) < s.depth { // each request's body is "x"
			continue
		}
		pending = pending[:0]
		var out bytes.Buffer
		full := true
		for range s.depth {
			i := s.answered.Add(1)
			if i > s.limit {
				full = false
				break
			}
			status := 200
			if i%5 == 0 {
				status = 500
				s.errors.Add(1)
			}
			switch i % 3 {
			case 0:
				fmt.Fprintf(&out, "HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\nhello", status)
			case 1:
				fmt.Fprintf(&out, "HTTP/1.1 %d X\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n", status)
			case 2:
				if status == 200 {
					status = 204
				}
				fmt.Fprintf(&out, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", status)
			}
		}
		if full {
			out.WriteString(s.extra)
		} else if s.closeAtLimit {
			return
		}
		b := out.Bytes()
		if len(b) == 0 {
			continue
		}
		half := len(b) / 2
		if _, err := c.Write(b[:half]); err != nil {
			return
		}
		time.Sleep(time.Millisecond) // the loader sees half a batch first
		if _, err := c.Write(b[half:]); err != nil {
			return
		}
	}
}

// TestNetLoadCountsPipelinedAnswers: runNetLoad sends depth requests
// before reading (the server answers only once it holds them all),
// parses every framing, split or several in one read, and counts every
// answer once and every unexpected status as an error.
func TestNetLoadCountsPipelinedAnswers(t *testing.T) {
	const limit = 83
	for _, depth := range []int{1, 4} {
		t.Run(fmt.Sprint("depth", depth), func(t *testing.T) {
			srv := newScriptedServer(t, depth, limit)
			req := newRequest("POST", "/t", nil, "x", 200)
			res, err := runNetLoad(context.Background(), netLoadSpec{addr: srv.ln.Addr().String(), req: req, connections: 3, depth: depth, window: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			// 204s count as errors too: the test wants 200.
			want := min(srv.answered.Load(), limit)
			if res.Requests != want || want < limit-int64(3*depth) {
				t.Errorf("counted %d answers, the server sent %d (limit %d)", res.Requests, want, limit)
			}
			var wantErrs int64
			for i := int64(1); i <= want; i++ {
				if i%5 == 0 || i%3 == 2 {
					wantErrs++
				}
			}
			if res.Errors != wantErrs {
				t.Errorf("counted %d errors, want %d", res.Errors, wantErrs)
			}
			if res.Hist.quantile(0.5) <= 0 {
				t.Errorf("no latencies recorded")
			}
		})
	}
}

// TestNetLoadRejectsBrokenAnswers: bytes after a batch's last answer, or
// a connection the server closes, end the phase with an error instead of
// being miscounted.
func TestNetLoadRejectsBrokenAnswers(t *testing.T) {
	req := newRequest("POST", "/t", nil, "x", 200)
	srv := newScriptedServer(t, 2, 1000)
	srv.extra = "HTTP/1.1 200 X\r\n"
	_, err := runNetLoad(context.Background(), netLoadSpec{addr: srv.ln.Addr().String(), req: req, connections: 1, depth: 2, window: time.Second})
	if err == nil || !strings.Contains(err.Error(), "after the last answer") {
		t.Errorf("extra bytes: err %v", err)
	}
	closing := newScriptedServer(t, 1, 3) // closes after its 3 answers
	closing.closeAtLimit = true
	_, err = runNetLoad(context.Background(), netLoadSpec{addr: closing.ln.Addr().String(), req: req, connections: 1, depth: 1, window: time.Second})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("closed connection: err %v", err)
	}
}

// TestNetLoadPipeliningWithGoServer: Go's HTTP/1.1 server answers
// pipelined requests in order on one connection; every answer counted is
// one the handler wrote, in the window after the warm-up.
func TestNetLoadPipeliningWithGoServer(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != "grant_type=x" {
			w.WriteHeader(400)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q}`, strings.Repeat("a", 600))
	}))
	defer srv.Close()
	req := newRequest("POST", "/connect/token", []string{"Content-Type: application/x-www-form-urlencoded"}, "grant_type=x", 200)
	res, err := runNetLoad(context.Background(), netLoadSpec{addr: strings.TrimPrefix(srv.URL, "http://"), req: req, connections: 4, depth: 8,
		warmup: 100 * time.Millisecond, window: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Requests < 100 || res.Requests > calls.Load() {
		t.Errorf("%d answers (%d errors) counted, %d handled", res.Requests, res.Errors, calls.Load())
	}
	if res.CPU.load <= 0 {
		t.Errorf("load CPU share %v", res.CPU.load)
	}
}
