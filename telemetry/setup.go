package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of Signet's own spans.
const ScopeName = "github.com/signet-id/signet"

// ErrConfig wraps every error of a tracing setting.
var ErrConfig = errors.New("tracing configuration")

// Tracing is a tracer provider and Signet's tracer. A nil *Tracing is
// tracing off.
type Tracing struct {
	Provider *sdktrace.TracerProvider
	Tracer   trace.Tracer
}

// Enabled reports whether the environment turns tracing on: not when
// OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is none; on when
// OTEL_TRACES_EXPORTER is otlp, or when it is unset and
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set. (The specification's default exporter is otlp; Signet's is none,
// so that a server nobody configured for tracing sends nothing.) Any
// other exporter, or an OTLP protocol other than http/protobuf, is an
// error naming the setting.
func Enabled(lookup func(string) (string, bool)) (bool, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return false, nil
	}
	on := false
	switch exp := strings.ToLower(get("OTEL_TRACES_EXPORTER")); exp {
	case "none":
		return false, nil
	case "otlp":
		on = true
	case "":
		on = get("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	default:
		return false, fmt.Errorf("%w: OTEL_TRACES_EXPORTER=%q is not supported; Signet exports traces with otlp (OTLP over HTTP) or none", ErrConfig, exp)
	}
	if !on {
		return false, nil
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := get(k); p != "" {
			if p != "http/protobuf" {
				return false, fmt.Errorf("%w: %s=%q is not supported; Signet sends OTLP over HTTP: set it to http/protobuf or unset it", ErrConfig, k, p)
			}
			break
		}
	}
	return true, nil
}

// FromEnv returns the tracing the environment asks for (see [Enabled]),
// nil when it is off. The exporter is OTLP over HTTP
// (otlptracehttp), configured by the OTEL_EXPORTER_OTLP_* variables; the
// sampler by OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, the batch
// processor by OTEL_BSP_*, the resource by OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES (service.name defaults to signet). version
// becomes service.version. Shut it down to flush the spans.
func FromEnv(ctx context.Context, lookup func(string) (string, bool), version string) (*Tracing, error) {
	on, err := Enabled(lookup)
	if err != nil || !on {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: the OTLP exporter: %w; check the OTEL_EXPORTER_OTLP_* variables", ErrConfig, err)
	}
	attrs := []resource.Option{resource.WithAttributes(semconv.ServiceName("signet")), resource.WithTelemetrySDK()}
	if version != "" {
		attrs = append(attrs, resource.WithAttributes(semconv.ServiceVersion(version)))
	}
	attrs = append(attrs, resource.WithFromEnv()) // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	res, err := resource.New(ctx, attrs...)
	if err != nil {
		return nil, fmt.Errorf("%w: OTEL_RESOURCE_ATTRIBUTES or OTEL_SERVICE_NAME: %w", ErrConfig, err)
	}
	return New(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// New returns tracing with a tracer provider of opts (tests pass a
// syncer to an in-memory exporter).
func New(opts ...sdktrace.TracerProviderOption) *Tracing {
	tp := sdktrace.NewTracerProvider(opts...)
	return &Tracing{Provider: tp, Tracer: tp.Tracer(ScopeName)}
}

// Shutdown flushes the spans and stops the exporter; nothing on nil.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.Provider.Shutdown(ctx)
}
