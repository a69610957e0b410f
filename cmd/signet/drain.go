package main

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// httpServer is an http.Server whose graceful Shutdown does not wait for
// connections that never sent a byte. net/http counts a connection it
// accepted but has read nothing from (StateNew) as busy until it is 5
// seconds old: a browser's speculative preconnect, or a spare
// connection an HTTP client dialled for a burst and then kept idle,
// held every shutdown for up to 5 seconds, and a shutdown timeout of 5
// seconds or less ended in "context deadline exceeded". Shutdown now
// closes those connections once the listener is closed, as it closes
// idle keep-alive connections: nothing was asked on them, so nothing
// is lost. A connection that has sent part of a request is waited for
// as before.
type httpServer struct {
	*http.Server
	fresh *freshConns
}

func newDrainingServer(hs *http.Server) *httpServer {
	f := &freshConns{conns: map[*readConn]struct{}{}}
	hs.ConnState = f.connState
	hs.RegisterOnShutdown(f.closeSilent)
	return &httpServer{Server: hs, fresh: f}
}

// Serve serves ln, noting which of its connections have sent a byte.
func (s *httpServer) Serve(ln net.Listener) error {
	return s.Server.Serve(readListener{ln})
}

// freshConns is the set of a server's connections in StateNew.
type freshConns struct {
	mu    sync.Mutex
	conns map[*readConn]struct{}
}

func (f *freshConns) connState(c net.Conn, s http.ConnState) {
	rc, ok := c.(*readConn)
	if !ok {
		return
	}
	if s == http.StateNew {
		f.mu.Lock()
		f.conns[rc] = struct{}{}
		f.mu.Unlock()
		return
	}
	if !rc.left.Load() { // once per connection, not once per request
		rc.left.Store(true)
		f.mu.Lock()
		delete(f.conns, rc)
		f.mu.Unlock()
	}
}

// closeSilent closes the connections in StateNew that have sent
// nothing. Shutdown calls it after closing the listeners.
func (f *freshConns) closeSilent() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		if !c.read.Load() {
			c.Conn.Close()
			delete(f.conns, c)
		}
	}
}

type readListener struct{ net.Listener }

func (l readListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &readConn{Conn: c}, nil
}

// readConn is a connection that knows whether it has read a byte.
type readConn struct {
	net.Conn
	read atomic.Bool // a byte was read
	left atomic.Bool // ConnState moved past StateNew
}

func (c *readConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.read.Load() {
		c.read.Store(true)
	}
	return n, err
}
