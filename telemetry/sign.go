package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// SpanSign is the name of the signing span.
const SpanSign = "signet.sign"

// StartSign starts the span of one token signature with its key id,
// algorithm and JWS typ (all public: they are in the token's header).
// The server calls it through its Config.Tracer hook.
func StartSign(ctx context.Context, t trace.Tracer, kid, alg, typ string) trace.Span {
	_, sp := t.Start(ctx, SpanSign, trace.WithAttributes(
		attribute.String("signet.key.id", kid),
		attribute.String("signet.key.alg", alg),
		attribute.String("signet.token.typ", typ)))
	return sp
}
