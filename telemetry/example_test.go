package telemetry_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/signet-id/signet/telemetry"
)

// Enabled reads the standard OTEL_* variables: tracing is off unless an
// OTLP exporter or endpoint is named.
func ExampleEnabled() {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	for _, vars := range []map[string]string{
		{},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"},
		{"OTEL_TRACES_EXPORTER": "zipkin"},
	} {
		on, err := telemetry.Enabled(env(vars))
		fmt.Println(on, err != nil)
	}
	// Output:
	// false false
	// true false
	// false false
	// false true
}

// FromEnv is what the serve command does: nil (tracing off, nothing
// wrapped) unless the environment turns tracing on.
func ExampleFromEnv() {
	tr, err := telemetry.FromEnv(context.Background(), os.LookupEnv, "v0.0.0-example")
	if err != nil {
		fmt.Println("tracing:", err)
		return
	}
	defer tr.Shutdown(context.Background())
	h := tr.Handler(http.NotFoundHandler()) // a nil *Tracing returns h itself
	_ = h
}

// New builds tracing from OpenTelemetry SDK options (here an in-memory
// exporter); Handler traces each request in an HTTP server span.
func ExampleNew() {
	exp := tracetest.NewInMemoryExporter()
	tr := telemetry.New(sdktrace.WithSyncer(exp))
	defer tr.Shutdown(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	srv := httptest.NewServer(tr.Handler(mux))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output:
	// GET /hello
}
