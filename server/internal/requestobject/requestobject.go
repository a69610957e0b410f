package requestobject

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
)

// ErrInvalid is wrapped by every refusal of a request object.
var ErrInvalid = errors.New("invalid request object")

// Defaults of [Options].
const (
	DefaultMaxSize = 16 << 10
	// DefaultMaxLifetime keeps exp, with the leeway, within the hour a
	// grant store remembers a jti (grant.MaxOnceLifetime).
	DefaultMaxLifetime = time.Hour - DefaultLeeway
	DefaultLeeway      = 30 * time.Second
)

// DefaultAlgorithms are the algorithms accepted unless Options.Algorithms
// says otherwise.
func DefaultAlgorithms() []key.Algorithm {
	return []key.Algorithm{key.PS256, key.ES256, key.EdDSA, key.RS256}
}

// Replay remembers the jtis of request objects: UseOnce fails (wrapping
// any error) when id was used before and has not expired.
type Replay interface {
	UseOnce(ctx context.Context, id string, exp time.Time) error
}

// Options configure a Verifier.
type Options struct {
	Issuer      string          // the aud request objects must name
	Algorithms  []key.Algorithm // nil: DefaultAlgorithms
	MaxSize     int             // 0: DefaultMaxSize
	MaxLifetime time.Duration   // 0: DefaultMaxLifetime
	Leeway      time.Duration   // 0: DefaultLeeway
	Replay      Replay          // required
	Now         func() time.Time
}

// Verifier verifies request objects.
type Verifier struct{ o Options }

// New returns a Verifier for o.
func New(o Options) (*Verifier, error) {
	if o.Issuer == "" || o.Replay == nil {
		return nil, errors.New("requestobject: Issuer and Replay are required")
	}
	if o.Algorithms == nil {
		o.Algorithms = DefaultAlgorithms()
	}
	o.MaxSize = cmpOr(o.MaxSize, DefaultMaxSize)
	if o.MaxLifetime == 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{o: o}, nil
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// Algorithms returns the accepted algorithms (discovery's
// request_object_signing_alg_values_supported).
func (v *Verifier) Algorithms() []key.Algorithm { return slices.Clone(v.o.Algorithms) }

// Client is the client a request object is checked for.
type Client struct {
	ID   string
	Keys privatekeyjwt.KeySet // nil: the client has no keys, and cannot sign objects
	// Algorithms narrows the accepted algorithms (FAPI 2.0: PS256, ES256,
	// EdDSA); empty: the verifier's.
	Algorithms []key.Algorithm
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// registered are the JWT claims that are not authorization parameters.
var registered = []string{"iss", "aud", "exp", "nbf", "iat", "jti"}

// Verify checks the request object raw for c and returns its parameters.
func (v *Verifier) Verify(ctx context.Context, raw string, c Client) (map[string]string, error) {
	if len(raw) > v.o.MaxSize {
		return nil, invalid("it is %d bytes, more than %d", len(raw), v.o.MaxSize)
	}
	if c.Keys == nil {
		return nil, invalid("the client %q has no public keys (jwks or jwksUri) to verify it with", c.ID)
	}
	algs := v.o.Algorithms
	if len(c.Algorithms) > 0 {
		algs = slices.DeleteFunc(slices.Clone(algs), func(a key.Algorithm) bool { return !slices.Contains(c.Algorithms, a) })
	}
	joseAlgs := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		joseAlgs[i] = jose.SignatureAlgorithm(a)
	}
	sig, err := jose.ParseSigned(raw, joseAlgs)
	if err != nil {
		return nil, invalid("not a JWS signed with %v: %v", algs, err)
	}
	if len(sig.Signatures) != 1 {
		return nil, invalid("it must have exactly one signature")
	}
	h := sig.Signatures[0].Protected
	if typ, ok := h.ExtraHeaders[jose.HeaderType].(string); ok && typ != "oauth-authz-req+jwt" && typ != "JWT" {
		return nil, invalid("typ %q; use oauth-authz-req+jwt", typ)
	}
	keys, err := c.Keys.Keys(ctx, h.KeyID, key.Algorithm(h.Algorithm))
	if err != nil {
		return nil, invalid("%v", err)
	}
	var payload []byte
	for i := range keys {
		if payload, err = sig.Verify(&keys[i]); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, invalid("the signature does not verify with the client's keys")
	}
	var claims map[string]any
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil {
		return nil, invalid("its payload is not a JSON object")
	}
	if iss, _ := claims["iss"].(string); iss != c.ID {
		return nil, invalid("iss %q must be the client_id %q", iss, c.ID)
	}
	if id, ok := claims["client_id"]; ok && id != c.ID {
		return nil, invalid("client_id %v must be %q", id, c.ID)
	}
	if !audienceHas(claims["aud"], v.o.Issuer) {
		return nil, invalid("aud must be the issuer %q", v.o.Issuer)
	}
	now := v.o.Now()
	exp, ok := numericDate(claims["exp"])
	switch {
	case !ok:
		return nil, invalid("exp is missing")
	case !now.Before(exp.Add(v.o.Leeway)):
		return nil, invalid("it expired at %s", exp.UTC().Format(time.RFC3339))
	case exp.Sub(now) > v.o.MaxLifetime:
		return nil, invalid("exp is more than %s ahead", v.o.MaxLifetime)
	}
	if nbf, ok := numericDate(claims["nbf"]); ok && nbf.After(now.Add(v.o.Leeway)) {
		return nil, invalid("it is not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return nil, invalid("jti is missing: a request object is used once")
	}
	params := make(map[string]string, len(claims))
	for k, val := range claims {
		if slices.Contains(registered, k) {
			continue
		}
		switch x := val.(type) {
		case string:
			params[k] = x
		case json.Number:
			params[k] = x.String()
		case map[string]any:
			if k != "claims" {
				return nil, invalid("parameter %q must be a string or a number", k)
			}
			b, err := json.Marshal(x) // the claims parameter is a JSON object (OpenID Connect Core 6.1)
			if err != nil {
				return nil, invalid("parameter claims does not encode")
			}
			params[k] = string(b)
		default:
			return nil, invalid("parameter %q must be a string or a number", k)
		}
	}
	if _, ok := params["request"]; ok {
		return nil, invalid("it must not contain request")
	}
	if _, ok := params["request_uri"]; ok {
		return nil, invalid("it must not contain request_uri")
	}
	// Remembered until exp plus the leeway it was accepted with.
	if err := v.o.Replay.UseOnce(ctx, c.ID+"\x00"+jti, exp.Add(v.o.Leeway)); err != nil {
		return nil, fmt.Errorf("%w: jti %q was used before, or could not be recorded: %v", ErrInvalid, jti, err)
	}
	return params, nil
}

func audienceHas(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		for _, x := range a {
			if x == issuer {
				return true
			}
		}
	}
	return false
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
