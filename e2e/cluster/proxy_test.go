package cluster

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy forwards TCP connections to an upstream server (PostgreSQL) until
// it is cut: Cut closes every connection and makes new ones close at once,
// as an unreachable server would; Restore forwards again. The instances'
// DSN points at it, so an outage never touches the shared server.
type proxy struct {
	t        *testing.T
	ln       net.Listener
	network  string // of upstream: "tcp" or "unix"
	upstream string

	mu    sync.Mutex // guards cut and conns
	cut   bool
	conns map[net.Conn]struct{}

	wg sync.WaitGroup // the accept loop and the pipes
}

// startProxy listens on a loopback port chosen by the OS and forwards to
// upstream; it closes when the test ends.
func startProxy(t *testing.T, network, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, network: network, upstream: upstream, conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's host:port.
func (p *proxy) Addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		p.wg.Go(func() { p.pipe(c) })
	}
}

func (p *proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout(p.network, p.upstream, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			c.Close()
			up.Close()
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, up)
			p.mu.Unlock()
		})
	}
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(up, c); closeBoth() })
	wg.Go(func() { io.Copy(c, up); closeBoth() })
	wg.Wait()
}

// Cut closes every forwarded connection and refuses new ones (they are
// accepted and closed at once) until Restore.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore forwards new connections again.
func (p *proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

func (p *proxy) close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// echoServer echoes lines until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); io.Copy(c, c) })
		}
	})
	return ln.Addr().String()
}

// roundTrip sends a line through c and reads it back.
func roundTrip(c net.Conn) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "ping\n" {
		return errors.New("echoed " + line)
	}
	return nil
}

// This test needs no PostgreSQL.
func TestProxyCutAndRestore(t *testing.T) {
	p := startProxy(t, "tcp", echoServer(t))
	dial := func() net.Conn {
		c, err := net.Dial("tcp", p.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	live := dial()
	if err := roundTrip(live); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.Cut()
	if err := roundTrip(live); err == nil {
		t.Fatal("a connection open before the cut still works")
	}
	if err := roundTrip(dial()); err == nil {
		t.Fatal("a connection made during the cut works")
	}
	p.Restore()
	if err := roundTrip(dial()); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}
