package telemetry

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/throttle"
)

// SpanHash is the name of the password hashing span.
const SpanHash = "signet.hash"

// Budget returns b with a span per hash: "signet.hash", from Acquire
// (so it includes the wait for memory) to the release, which the caller
// calls when the argon2id hash is done. It records the memory the hash
// asked for, and error.type busy or canceled when the budget refused.
func (t *Tracing) Budget(b clientauth.Budget) clientauth.Budget {
	return &budget{b: b, t: t.Tracer}
}

type budget struct {
	b clientauth.Budget
	t trace.Tracer
}

func (b *budget) Acquire(ctx context.Context, kib uint64) (func(), error) {
	_, sp := b.t.Start(ctx, SpanHash, trace.WithAttributes(attribute.Int64("signet.hash.memory_kib", int64(min(kib, 1<<62)))))
	release, err := b.b.Acquire(ctx, kib)
	if err != nil {
		name := "canceled"
		if errors.Is(err, throttle.ErrBusy) {
			name = "busy"
		}
		sp.SetAttributes(keyErrorType.String(name))
		sp.SetStatus(codes.Error, name)
		sp.End()
		return nil, err
	}
	return func() {
		release()
		sp.End()
	}, nil
}
