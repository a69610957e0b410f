package main

import (
	"log/slog"
	"runtime/debug"

	"github.com/signet-id/signet/config"
)

// serveGCPercent is the garbage collector's target (GOGC) of `signet
// serve` when the environment sets no GOGC. A token server keeps a small
// live heap (a few MiB) and allocates a few KiB per request, so at Go's
// default of 100 the collector runs dozens of times a second under load,
// and with one core each cycle delays the requests in flight: measured,
// most of the introspection tail (docs/benchmarks.md, "Results, 6
// December 2026 12:25–13:19 UTC (a quiet machine), and the garbage
// collector's target"). At 400 it runs about a quarter as often, for
// some MiB more of heap (docs/operations.md, "Memory and the garbage
// collector"); GOMEMLIMIT, when set, still bounds the heap.
const serveGCPercent = 400

// setServeGC sets the collector's target to serveGCPercent unless the
// environment sets GOGC (which the Go runtime read at start: its choice
// stands).
func setServeGC(lookupEnv config.LookupEnv, log *slog.Logger) {
	if v, ok := lookupEnv("GOGC"); ok && v != "" {
		log.Debug("garbage collector target from the environment", "GOGC", v)
		return
	}
	debug.SetGCPercent(serveGCPercent)
	log.Debug("garbage collector target", "GOGC", serveGCPercent, "override", "set GOGC in the environment")
}
