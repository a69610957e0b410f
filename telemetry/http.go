package telemetry

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// unmatchedPath replaces url.path on the span of a request no route
// matched.
const unmatchedPath = "(unmatched)"

// Handler wraps h, a handler whose routes are ServeMux patterns, in an
// otelhttp server span per request, named after the route ("POST
// /connect/token"). An incoming W3C traceparent is honoured. otelhttp's
// own metrics go nowhere (Signet has its Prometheus metrics).
func (t *Tracing) Handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(redactUnmatched(h), "signet",
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
	)
}

// redactUnmatched overwrites the url.path otelhttp recorded when no route
// matched: such a path is anything a client sent. The mux sets r.Pattern
// on the request it was given, which is the one otelhttp passes on.
func redactUnmatched(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if r.Pattern == "" {
			trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("url.path", unmatchedPath))
		}
	})
}
