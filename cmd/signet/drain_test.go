package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A connection that never sent a byte (a browser's preconnect, a spare
// connection an HTTP client dialled during a burst) does not hold a
// graceful shutdown: net/http alone waits until it is 5 seconds old, so
// a shutdown timeout of 3 seconds ended in "context deadline exceeded".
// A request in flight is still answered.
func TestServeShutdownSilentConnections(t *testing.T) {
	t.Chdir(t.TempDir())
	in := startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0", shutdownTimeout: 3 * time.Second}, nil)
	var silent []net.Conn
	for _, addr := range []string{in.addr, in.adminAddr} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	// A connection with a request: the server is known to have accepted
	// the silent ones (one accept loop, in order) once this is answered.
	resp, err := http.Get(in.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	resp, err = http.Get("http://" + in.adminAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	begun := time.Now()
	in.stop(t) // fails the test unless serve returned nil
	if took := time.Since(begun); took > 2*time.Second {
		t.Errorf("shutdown took %v with two silent connections open", took)
	}
	for i, c := range silent {
		c.SetReadDeadline(time.Now().Add(time.Second))
		var ne net.Error
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("silent connection %d: read %d, %v; want it closed", i, n, err)
		}
	}
}
