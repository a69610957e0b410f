package main

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// gcPercent returns the collector's target, leaving it as it is.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// serve sets the collector's target to serveGCPercent when the
// environment has no GOGC, and leaves the runtime's choice when it has
// one. Not parallel: the target is the process's, and other serve tests
// set it too.
func TestServeGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	for _, tc := range []struct {
		name string
		vars map[string]string
		want int
	}{
		{"GOGC set", map[string]string{"GOGC": "50"}, 77},
		{"GOGC unset", nil, serveGCPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(77)
			t.Chdir(t.TempDir())
			in := startServe(t, serveOptions{dev: true, listen: "127.0.0.1:0", shutdownTimeout: 3 * time.Second}, tc.vars)
			if got := gcPercent(); got != tc.want {
				t.Errorf("GC percent %d while serving, want %d", got, tc.want)
			}
			if !strings.Contains(in.logs.String(), "garbage collector target") {
				t.Errorf("no log line names the collector's target:\n%s", in.logs)
			}
		})
	}
}
