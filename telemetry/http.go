package telemetry

import (
	"net/http"
	"strings"

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
	return otelhttp.NewHandler(routeAttrs(h), "signet",
		otelhttp.WithTracerProvider(t.Provider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
	)
}

// routeAttrs adds http.route once the mux has routed the request (otelhttp
// records its attributes before), and overwrites the url.path otelhttp
// recorded when no route matched: such a path is anything a client sent.
// The mux sets r.Pattern on the request it was given, which is the one
// otelhttp passes on.
func routeAttrs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		sp := trace.SpanFromContext(r.Context())
		if r.Pattern == "" {
			sp.SetAttributes(attribute.String("url.path", unmatchedPath))
			return
		}
		_, route, ok := strings.Cut(r.Pattern, " ")
		if !ok {
			route = r.Pattern
		}
		sp.SetAttributes(attribute.String("http.route", route))
	})
}
