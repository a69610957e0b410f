package telemetrytest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/signet-id/signet/telemetry/telemetrytest"
)

// A Collector stands in for an OTLP/HTTP collector: point an exporter at
// it, export, then Take what arrived.
func ExampleCollector() {
	c := &telemetrytest.Collector{}
	srv := httptest.NewServer(c)
	defer srv.Close()

	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	_, span := tp.Tracer("example").Start(ctx, "work")
	span.End()
	tp.Shutdown(ctx)

	reqs, bad := c.Take()
	for _, s := range telemetrytest.Spans(reqs) {
		fmt.Println(s.GetName())
	}
	fmt.Println(len(bad), "bad requests")
	// Output:
	// work
	// 0 bad requests
}
