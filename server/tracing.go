package server

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/telemetry"
)

// startSign starts the span of a signature by k when tracing is on; nil
// when it is off, at the cost of a nil check (it is inlined). A
// crypto.Signer has no context, so the server, which has the request's,
// starts the span.
func (s *Server) startSign(ctx context.Context, k *jws.Key, typ string) trace.Span {
	if s.tracer == nil {
		return nil
	}
	return s.signSpan(ctx, k, typ)
}

// signSpan is kept out of line so that startSign inlines.
//
//go:noinline
func (s *Server) signSpan(ctx context.Context, k *jws.Key, typ string) trace.Span {
	return telemetry.StartSign(ctx, s.tracer, k.KID(), string(k.Algorithm()), typ)
}

// endSign ends a span of startSign (nothing on nil); failed marks it an
// error.
func endSign(sp trace.Span, failed bool) {
	if sp != nil {
		endSignSpan(sp, failed)
	}
}

func endSignSpan(sp trace.Span, failed bool) {
	if failed {
		sp.SetStatus(codes.Error, "signing failed")
	}
	sp.End()
}
