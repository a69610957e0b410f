package telemetry

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/throttle"
)

// Attribute keys of the store spans.
const (
	keyOperation = attribute.Key("db.operation.name")
	keyStore     = attribute.Key("signet.store")
	keyErrorType = attribute.Key("error.type")
)

// storeSpan starts the span of one store call: "<store> <op>" with the
// operation's name and nothing of its arguments.
func storeSpan(ctx context.Context, t trace.Tracer, store, op string) (context.Context, trace.Span) {
	return t.Start(ctx, store+" "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(keyStore.String(store), keyOperation.String(op)))
}

// storeOutcomes are the errors that are answers, not failures: the span
// names them in error.type and stays OK.
var storeOutcomes = []struct {
	err  error
	name string
}{
	{grant.ErrNotFound, "not_found"},
	{grant.ErrExists, "exists"},
	{grant.ErrConsumed, "consumed"},
	{grant.ErrRevoked, "revoked"},
	{grant.ErrExpired, "expired"},
	{grant.ErrNoSession, "no_session"},
	{throttle.ErrTableFull, "table_full"},
}

// end ends sp with err's class: a known answer in error.type, any other
// error as the span's error status, without its message (a store's
// message may quote what it was given).
func end(sp trace.Span, err error) {
	if err != nil {
		name := "other"
		for _, o := range storeOutcomes {
			if errors.Is(err, o.err) {
				name = o.name
				break
			}
		}
		switch {
		case errors.Is(err, context.Canceled):
			name = "canceled"
		case errors.Is(err, context.DeadlineExceeded):
			name = "deadline_exceeded"
		}
		sp.SetAttributes(keyErrorType.String(name))
		if name == "other" || name == "canceled" || name == "deadline_exceeded" {
			sp.SetStatus(codes.Error, name)
		}
	}
	sp.End()
}

// GrantStore returns s with a span around each call, named "grants
// <Method>". The result implements grant.SessionKindRevoker when s does,
// and grant.OnceClaimer and grant.RevocationReader.
func (t *Tracing) GrantStore(s grant.Store) grant.Store {
	g := &grants{s: s, t: t.Tracer}
	if r, ok := s.(grant.SessionKindRevoker); ok {
		return &grantsKinds{grants: g, r: r}
	}
	return g
}

type grants struct {
	s grant.Store
	t trace.Tracer
}

func (g *grants) CreateGrant(ctx context.Context, gr grant.Grant) error {
	ctx, sp := storeSpan(ctx, g.t, "grants", "CreateGrant")
	err := g.s.CreateGrant(ctx, gr)
	end(sp, err)
	return err
}

func (g *grants) Grant(ctx context.Context, id string) (grant.Grant, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "Grant")
	out, err := g.s.Grant(ctx, id)
	end(sp, err)
	return out, err
}

func (g *grants) ConsumeGrant(ctx context.Context, id string, now time.Time) (grant.Grant, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "ConsumeGrant")
	out, err := g.s.ConsumeGrant(ctx, id, now)
	end(sp, err)
	return out, err
}

func (g *grants) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	ctx, sp := storeSpan(ctx, g.t, "grants", "RevokeGrant")
	err := g.s.RevokeGrant(ctx, id, now)
	end(sp, err)
	return err
}

func (g *grants) RevokeFamily(ctx context.Context, familyID string, now time.Time) (int, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "RevokeFamily")
	n, err := g.s.RevokeFamily(ctx, familyID, now)
	end(sp, err)
	return n, err
}

func (g *grants) RevokeSession(ctx context.Context, sessionID string, now time.Time) (int, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "RevokeSession")
	n, err := g.s.RevokeSession(ctx, sessionID, now)
	end(sp, err)
	return n, err
}

func (g *grants) CreateCode(ctx context.Context, gr grant.Grant, keep int) (int, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "CreateCode")
	n, err := g.s.CreateCode(ctx, gr, keep)
	end(sp, err)
	return n, err
}

func (g *grants) DeleteSessionCodes(ctx context.Context, sessionID string) (int, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "DeleteSessionCodes")
	n, err := g.s.DeleteSessionCodes(ctx, sessionID)
	end(sp, err)
	return n, err
}

func (g *grants) DeleteExpired(ctx context.Context, t time.Time) (int, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "DeleteExpired")
	n, err := g.s.DeleteExpired(ctx, t)
	end(sp, err)
	return n, err
}

// ClaimOnce makes the traced store a grant.OnceClaimer whatever s is:
// grant.ClaimOnce uses s's own when it has one.
func (g *grants) ClaimOnce(ctx context.Context, gr grant.Grant) error {
	ctx, sp := storeSpan(ctx, g.t, "grants", "ClaimOnce")
	err := grant.ClaimOnce(ctx, g.s, gr)
	end(sp, err)
	return err
}

// HasRevocation makes the traced store a grant.RevocationReader whatever
// s is: grant.HasRevocation uses s's own when it has one.
func (g *grants) HasRevocation(ctx context.Context, id string) (bool, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "HasRevocation")
	ok, err := grant.HasRevocation(ctx, g.s, id)
	end(sp, err)
	return ok, err
}

// grantsKinds is grants over a store that also revokes by session kind.
type grantsKinds struct {
	*grants
	r grant.SessionKindRevoker
}

func (g *grantsKinds) RevokeSessionKind(ctx context.Context, sessionID string, kind grant.Kind, now time.Time) (int, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "RevokeSessionKind")
	n, err := g.r.RevokeSessionKind(ctx, sessionID, kind, now)
	end(sp, err)
	return n, err
}

// AttemptStore returns s with a span around each call, named "attempts
// <Method>"; never the key (it holds user names and addresses). A
// throttle.BatchStore stays one.
func (t *Tracing) AttemptStore(s throttle.Store) throttle.Store {
	a := &attempts{s: s, t: t.Tracer}
	if b, ok := s.(throttle.BatchStore); ok {
		return &batchAttempts{attempts: a, b: b}
	}
	return a
}

// batchAttempts is attempts over a store that takes and settles in
// batches.
type batchAttempts struct {
	*attempts
	b throttle.BatchStore
}

func (a *batchAttempts) TakeAttempts(ctx context.Context, takes []throttle.Take, now time.Time) (int, time.Duration, error) {
	ctx, sp := storeSpan(ctx, a.t, "attempts", "TakeAttempts")
	n, wait, err := a.b.TakeAttempts(ctx, takes, now)
	if n < len(takes) && err == nil {
		sp.SetAttributes(attribute.Bool("signet.attempts.spent", true))
	}
	end(sp, err)
	return n, wait, err
}

func (a *batchAttempts) SettleAttempts(ctx context.Context, settles []throttle.Settle, now time.Time) error {
	ctx, sp := storeSpan(ctx, a.t, "attempts", "SettleAttempts")
	err := a.b.SettleAttempts(ctx, settles, now)
	end(sp, err)
	return err
}

type attempts struct {
	s throttle.Store
	t trace.Tracer
}

func (a *attempts) TakeAttempt(ctx context.Context, key string, max int, window time.Duration, now time.Time) (time.Duration, error) {
	ctx, sp := storeSpan(ctx, a.t, "attempts", "TakeAttempt")
	wait, err := a.s.TakeAttempt(ctx, key, max, window, now)
	if wait > 0 {
		sp.SetAttributes(attribute.Bool("signet.attempts.spent", true))
	}
	end(sp, err)
	return wait, err
}

func (a *attempts) ReturnAttempt(ctx context.Context, key string, now time.Time) error {
	ctx, sp := storeSpan(ctx, a.t, "attempts", "ReturnAttempt")
	err := a.s.ReturnAttempt(ctx, key, now)
	end(sp, err)
	return err
}

func (a *attempts) ResetAttempts(ctx context.Context, key string) error {
	ctx, sp := storeSpan(ctx, a.t, "attempts", "ResetAttempts")
	err := a.s.ResetAttempts(ctx, key)
	end(sp, err)
	return err
}

func (g *grants) Rotate(ctx context.Context, id string, now time.Time, next grant.Grant) (grant.Grant, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "Rotate")
	out, err := g.s.Rotate(ctx, id, now, next)
	end(sp, err)
	return out, err
}

func (g *grants) FamilyGrants(ctx context.Context, familyID string) ([]grant.Grant, error) {
	ctx, sp := storeSpan(ctx, g.t, "grants", "FamilyGrants")
	out, err := g.s.FamilyGrants(ctx, familyID)
	end(sp, err)
	return out, err
}

func (g *grants) StartSession(ctx context.Context, endSession, sess, code grant.Grant) error {
	ctx, sp := storeSpan(ctx, g.t, "grants", "StartSession")
	err := g.s.StartSession(ctx, endSession, sess, code)
	end(sp, err)
	return err
}
