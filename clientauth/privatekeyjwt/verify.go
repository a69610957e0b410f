package privatekeyjwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/internal/jwsverify"
	"github.com/signet-id/signet/key"
)

// Method is the token_endpoint_auth_method of this package.
const Method = "private_key_jwt"

// AssertionType is the client_assertion_type a client sends with a
// client_assertion (RFC 7523 section 2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Defaults of [Options].
const (
	DefaultMaxSize     = 8 << 10
	DefaultMaxLifetime = 5 * time.Minute
	DefaultLeeway      = 30 * time.Second
)

// Options configure a [Verifier]. Zero values take the defaults.
type Options struct {
	// Issuer is the authorization server's issuer identifier, always
	// accepted as aud. Required.
	Issuer string
	// Audiences are further accepted aud values: the token endpoint URL,
	// as RFC 7523 section 3 allows, and the URLs of the other endpoints a
	// client authenticates at (PAR, introspection, revocation).
	Audiences []string
	// Algorithms is the allowlist of assertion algorithms;
	// nil means [DefaultAlgorithms].
	Algorithms []key.Algorithm
	// MaxLifetime bounds exp - now (DefaultMaxLifetime), and so how long a
	// jti must be remembered.
	MaxLifetime time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat (DefaultLeeway).
	Leeway time.Duration
	// MaxSize is the longest assertion parsed, in bytes (DefaultMaxSize).
	MaxSize int
	// Replay remembers jtis. Required.
	Replay Replay
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks client assertions. Safe for concurrent use.
type Verifier struct {
	o       Options
	joseAlg []jose.SignatureAlgorithm
	headers *jwsverify.Cache[knownHeader] // knownheader.go
}

// New returns a Verifier, or an error naming a bad option.
func New(o Options) (*Verifier, error) {
	if o.Issuer == "" {
		return nil, errors.New("privatekeyjwt: Options.Issuer is required")
	}
	if o.Replay == nil {
		return nil, errors.New("privatekeyjwt: Options.Replay is required (NewMemoryReplay for one instance)")
	}
	if o.Algorithms == nil {
		o.Algorithms = DefaultAlgorithms()
	}
	if len(o.Algorithms) == 0 {
		return nil, errors.New("privatekeyjwt: Options.Algorithms is empty")
	}
	v := &Verifier{headers: newKnownHeaders()}
	for _, a := range o.Algorithms {
		if !a.Valid() {
			return nil, fmt.Errorf("privatekeyjwt: algorithm %q cannot be allowed; use RS*, PS*, ES* or EdDSA", a)
		}
		v.joseAlg = append(v.joseAlg, jose.SignatureAlgorithm(a))
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.Leeway < 0 {
		return nil, errors.New("privatekeyjwt: Options.Leeway is negative")
	}
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v.o = o
	return v, nil
}

// Algorithms returns the allowlist, for discovery's
// token_endpoint_auth_signing_alg_values_supported.
func (v *Verifier) Algorithms() []key.Algorithm { return slices.Clone(v.o.Algorithms) }

// Client is what a Verifier needs to know of the client an assertion
// names.
type Client struct {
	// ID is the client_id.
	ID string
	// Keys are the client's public keys.
	Keys KeySet
	// Algorithms narrows the Verifier's allowlist for this client (the
	// FAPI 2.0 Security Profile allows PS256, ES256 and EdDSA); empty
	// means the Verifier's.
	Algorithms []key.Algorithm
	// IssuerAudienceOnly accepts only the issuer identifier as aud, not
	// Options.Audiences, as the FAPI 2.0 Security Profile requires.
	IssuerAudienceOnly bool
}

// Assertion is a parsed, not yet verified client assertion.
type Assertion struct {
	sig    *jose.JSONWebSignature // nil when the header was remembered
	claims jwt.Claims
	alg    key.Algorithm
	kid    string
	// input and signature are the signing input and signature of an
	// assertion whose header was remembered (knownheader.go).
	input     string
	signature []byte
	// segment is the header segment go-jose parsed, remembered once the
	// signature verified.
	segment string
}

// ClientID returns the assertion's iss: the client it claims to be, to
// look up before [Verifier.Verify]. Not verified.
func (a *Assertion) ClientID() string { return a.claims.Issuer }

// Parse parses a client assertion without verifying it: at most
// Options.MaxSize bytes, a JWS compact serialization with an allowed alg
// and a JSON claims set with an iss. Its cost is bounded by the size.
func (v *Verifier) Parse(assertion string) (*Assertion, error) {
	if len(assertion) > v.o.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes; at most %d are accepted", ErrTooLarge, len(assertion), v.o.MaxSize)
	}
	if assertion == "" {
		return nil, fmt.Errorf("%w: client_assertion is empty", ErrMalformed)
	}
	if h, ok := v.headers.Get(headerSegment(assertion)); ok {
		if a, ok, err := v.parseKnown(assertion, h); ok {
			return a, err
		}
	}
	sig, err := jose.ParseSignedCompact(assertion, v.joseAlg)
	if err != nil {
		if ua, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return nil, fmt.Errorf("%w: alg %q; allowed: %s", ErrAlgorithm, ua.Got, algList(v.o.Algorithms))
		}
		return nil, fmt.Errorf("%w: not a signed JWT (JWS compact serialization): %v", ErrMalformed, err)
	}
	if len(sig.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures; exactly one is expected", ErrMalformed, len(sig.Signatures))
	}
	h := sig.Signatures[0].Header
	a := &Assertion{sig: sig, alg: key.Algorithm(h.Algorithm), kid: h.KeyID, segment: headerSegment(assertion)}
	if err := json.Unmarshal(sig.UnsafePayloadWithoutVerification(), &a.claims); err != nil {
		return nil, fmt.Errorf("%w: the claims are not a JSON object of the registered types: %v", ErrMalformed, err)
	}
	if a.claims.Issuer == "" {
		return nil, fmt.Errorf("%w: iss is missing", ErrIssuer)
	}
	return a, nil
}

// Claims are what a verified assertion says.
type Claims struct {
	// ClientID is iss and sub.
	ClientID string
	// JTI is the assertion's jti, now remembered until Expiry.
	JTI    string
	Expiry time.Time
	// KeyID and Algorithm name the key that verified the signature.
	KeyID     string
	Algorithm key.Algorithm
}

// Verify checks a parsed assertion against the client it names, by the
// rules in the package documentation, and records its jti. The cheap
// checks come first; the Replay is reached only by an assertion whose
// signature verified.
func (v *Verifier) Verify(ctx context.Context, a *Assertion, c Client) (*Claims, error) {
	cl := &a.claims
	if c.ID == "" || cl.Issuer != c.ID {
		return nil, fmt.Errorf("%w: iss %q, client_id %q", ErrIssuer, cl.Issuer, c.ID)
	}
	if cl.Subject != c.ID {
		return nil, fmt.Errorf("%w: sub %q must equal iss and the client_id %q", ErrSubject, cl.Subject, c.ID)
	}
	if len(c.Algorithms) > 0 && !slices.Contains(c.Algorithms, a.alg) {
		return nil, fmt.Errorf("%w: alg %s; client %q allows %s", ErrAlgorithm, a.alg, c.ID, algList(c.Algorithms))
	}
	if err := v.checkAudience(cl.Audience, c.IssuerAudienceOnly); err != nil {
		return nil, err
	}
	now := v.o.Now()
	exp, err := v.checkTimes(cl, now)
	if err != nil {
		return nil, err
	}
	if cl.ID == "" {
		return nil, fmt.Errorf("%w: an assertion needs a unique jti", ErrMissingJTI)
	}
	if c.Keys == nil {
		return nil, fmt.Errorf("%w: client %q has no keys", ErrUnknownKey, c.ID)
	}
	keys, err := c.Keys.Keys(ctx, a.kid, a.alg)
	if err != nil {
		return nil, err
	}
	var used *jose.JSONWebKey
	for i := range keys {
		if err := a.verifySignature(&keys[i]); err == nil {
			used = &keys[i]
			break
		}
	}
	if used != nil && a.sig != nil && rememberable(a.segment) {
		v.headers.Put(a.segment, knownHeader{alg: a.alg, kid: a.kid})
	}
	if used == nil {
		if a.kid != "" {
			return nil, fmt.Errorf("%w: alg %s, kid %q", ErrSignature, a.alg, a.kid)
		}
		return nil, fmt.Errorf("%w: alg %s, no kid; %d key(s) tried", ErrSignature, a.alg, len(keys))
	}
	// Remembered until exp plus the leeway it was accepted with.
	if err := v.o.Replay.UseOnce(ctx, replayID(c.ID, cl.ID), exp.Add(v.o.Leeway)); err != nil {
		if errors.Is(err, ErrReplayed) {
			return nil, fmt.Errorf("jti %q of client %q: %w", cl.ID, c.ID, err)
		}
		return nil, fmt.Errorf("privatekeyjwt: the jti could not be recorded, so the assertion is refused: %w", err)
	}
	return &Claims{ClientID: c.ID, JTI: cl.ID, Expiry: exp, KeyID: used.KeyID, Algorithm: a.alg}, nil
}

func (v *Verifier) checkAudience(aud jwt.Audience, issuerOnly bool) error {
	if len(aud) == 0 {
		return fmt.Errorf("%w: aud is missing; it must be the issuer %q", ErrAudience, v.o.Issuer)
	}
	if aud.Contains(v.o.Issuer) {
		return nil
	}
	if issuerOnly {
		return fmt.Errorf("%w: aud %q; this client must use the issuer identifier %q", ErrAudience, []string(aud), v.o.Issuer)
	}
	for _, a := range v.o.Audiences {
		if aud.Contains(a) {
			return nil
		}
	}
	return fmt.Errorf("%w: aud %q; use the issuer identifier %q", ErrAudience, []string(aud), v.o.Issuer)
}

// checkTimes checks exp, nbf and iat at now and returns exp.
func (v *Verifier) checkTimes(cl *jwt.Claims, now time.Time) (time.Time, error) {
	if cl.Expiry == nil {
		return time.Time{}, fmt.Errorf("%w: exp is missing", ErrExpired)
	}
	exp := cl.Expiry.Time()
	if !now.Before(exp.Add(v.o.Leeway)) {
		return time.Time{}, fmt.Errorf("%w: exp %s is past (now %s)", ErrExpired, exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if exp.Sub(now) > v.o.MaxLifetime+v.o.Leeway {
		return time.Time{}, fmt.Errorf("%w: exp is %s ahead; at most %s is accepted", ErrLifetime, exp.Sub(now).Round(time.Second), v.o.MaxLifetime)
	}
	if cl.NotBefore != nil && cl.NotBefore.Time().After(now.Add(v.o.Leeway)) {
		return time.Time{}, fmt.Errorf("%w: nbf %s is in the future", ErrNotYetValid, cl.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	if cl.IssuedAt != nil && cl.IssuedAt.Time().After(now.Add(v.o.Leeway)) {
		return time.Time{}, fmt.Errorf("%w: iat %s is in the future", ErrNotYetValid, cl.IssuedAt.Time().UTC().Format(time.RFC3339))
	}
	return exp, nil
}
