package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/signet-id/signet/telemetry"
)

// startTracing returns the tracing the OTEL_* environment variables turn
// on (docs/operations.md, "Tracing"), nil when they do not.
func startTracing(ctx context.Context, e *env, log *slog.Logger) (*telemetry.Tracing, error) {
	t, err := telemetry.FromEnv(ctx, e.lookupEnv, currentBuildInfo().Version)
	if err != nil || t == nil {
		return nil, err
	}
	log.Info("tracing on: spans are exported with OTLP over HTTP (OTEL_EXPORTER_OTLP_* settings)")
	return t, nil
}

// stopTracing flushes the spans still buffered, for at most 5 seconds.
func stopTracing(t *telemetry.Tracing, log *slog.Logger) {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		log.Warn("tracing: flushing the last spans failed", "error", err)
	}
}
