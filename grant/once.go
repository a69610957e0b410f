package grant

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Namespaces of one-time identifiers for [OnceID]: the same jti in two
// kinds of token is two identifiers.
const (
	OnceClientAssertion = "client_assertion" // RFC 7523 client assertions
	OnceDPoPProof       = "dpop_proof"       // RFC 9449 DPoP proofs
	OnceRequestObject   = "request_object"   // RFC 9101 request objects
)

// MaxOnceLifetime is the longest a one-time identifier may be remembered:
// [UseOnce] refuses a later exp, so the rows it stores stay few and short
// lived whatever a token claims. Verifiers bound their tokens' lifetimes
// far below it (a DPoP proof's iat window, an assertion's exp); an hour is
// what request objects may need (FAPI allows exp up to 60 minutes after
// nbf).
const MaxOnceLifetime = time.Hour

// OnceClaimer is implemented by stores that claim one-time identifiers
// atomically; every store in this module implements it. [UseOnce] uses it
// when its store does (see [ClaimOnce]).
type OnceClaimer interface {
	// ClaimOnce stores g, a KindJTI grant, unless a grant with its id
	// exists that is not a KindJTI grant expired at g.Created: then
	// nothing changes and the error is ErrExists. A KindJTI grant expired
	// at g.Created is replaced by g in the same atomic step, so an
	// identifier may be used again once its token expired even before the
	// cleaner removed the row. Concurrent claims of one id, from any
	// process sharing the store, succeed exactly once. ErrInvalid if g
	// fails [ValidateClaim].
	ClaimOnce(ctx context.Context, g Grant) error
}

// ClaimOnce claims the one-time identifier g (a KindJTI grant) in s: with
// s's own ClaimOnce when s is an [OnceClaimer], else with CreateGrant, so
// that an identifier whose earlier use expired stays refused (ErrExists)
// until the [Cleaner] deleted its row: safe, only later than needed.
func ClaimOnce(ctx context.Context, s Store, g Grant) error {
	if c, ok := s.(OnceClaimer); ok {
		return c.ClaimOnce(ctx, g)
	}
	if err := ValidateClaim(g); err != nil {
		return err
	}
	return s.CreateGrant(ctx, g)
}

// OnceID returns the grant id under which a one-time identifier jti of
// namespace (OnceClientAssertion, OnceDPoPProof, OnceRequestObject) is
// remembered: the hash of namespace, scope and jti. scope is whose
// identifier it is: the client id for assertions and request objects; for
// DPoP proofs, the proof key's thumbprint. The parts are joined with NUL,
// which none of them contains, so distinct triples never share an id.
func OnceID(namespace, scope, jti string) string {
	return HashHandle(namespace + "\x00" + scope + "\x00" + jti)
}

// UseOnce records that the one-time identifier id (see [OnceID]) is used
// at now, until exp, when the token that carries it expires. It returns
// ErrReplayed if id was used before and has not expired at now; across
// every process sharing s, exactly one of several concurrent uses of an id
// succeeds.
//
// An identifier whose exp has passed may be used again: the row of its
// earlier use is replaced in the same atomic step ([OnceClaimer], which
// every store of this module is), even before the [Cleaner] deleted it,
// since a token carrying it would be refused as expired anyway (RFC 7523
// §3 asks to remember a jti only while its token is valid).
//
// exp must be after now and at most MaxOnceLifetime later: otherwise the
// error wraps ErrExpired or ErrInvalid and nothing is stored. The row is
// deleted by the [Cleaner] once exp is more than its grace in the past.
func UseOnce(ctx context.Context, s Store, id string, now, exp time.Time) error {
	switch {
	case !now.Before(exp):
		return fmt.Errorf("grant: use once: the identifier's token expired at %s, before now (%s): %w",
			exp.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano), ErrExpired)
	case exp.Sub(now) > MaxOnceLifetime:
		return errors.Join(ErrInvalid, fmt.Errorf("grant: use once: exp is %s after now, more than %s: bound the token's lifetime before remembering its identifier",
			exp.Sub(now).Round(time.Second), MaxOnceLifetime))
	}
	err := ClaimOnce(ctx, s, Grant{ID: id, Kind: KindJTI, Created: now, Expires: exp})
	if errors.Is(err, ErrExists) {
		return ErrReplayed
	}
	return err
}

// ReplayCache remembers one-time identifiers in a Store, for the
// verifiers of client assertions, DPoP proofs and request objects. Its
// UseOnce method is the small interface they take:
//
//	interface{ UseOnce(ctx context.Context, id string, exp time.Time) error }
//
// Because the identifiers live in the store, a replay at another instance
// sharing it is refused too.
type ReplayCache struct {
	store     Store
	namespace string
	now       func() time.Time
}

// NewReplayCache returns a ReplayCache over s whose clock is now (nil
// means time.Now). With a namespace (OnceClientAssertion, OnceDPoPProof,
// OnceRequestObject), the id a caller gives is stored as the hash of the
// namespace and the id, so verifiers that derive their ids alike (a hash
// of client and jti) never share one; with "", the id is stored as given
// (make it with [OnceID]).
func NewReplayCache(s Store, namespace string, now func() time.Time) *ReplayCache {
	if now == nil {
		now = time.Now
	}
	return &ReplayCache{store: s, namespace: namespace, now: now}
}

// UseOnce is [UseOnce] at the cache's clock: ErrReplayed if id was used
// before and has not expired.
func (c *ReplayCache) UseOnce(ctx context.Context, id string, exp time.Time) error {
	if c.namespace != "" {
		id = HashHandle(c.namespace + "\x00" + id)
	}
	return UseOnce(ctx, c.store, id, c.now(), exp)
}
