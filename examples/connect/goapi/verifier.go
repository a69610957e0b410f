package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// algorithms are the signature algorithms accepted: what Signet signs
// with, never "none" or HMAC.
var algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// Claims are the RFC 9068 claims the API uses.
type Claims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	// Cnf is set on a DPoP-bound token (RFC 9449): this API takes Bearer
	// tokens only, so it refuses those (docs/dpop.md verifies them).
	Cnf *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// HasScope says whether the token grants scope.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(strings.Fields(c.Scope), scope) }

// Verifier checks Signet's access tokens for one API.
type Verifier struct {
	issuer, audience string
	keys             *KeySet
	leeway           time.Duration
	now              func() time.Time
}

// NewVerifier reads the issuer's discovery document for its JWKS URL.
func NewVerifier(issuer, audience string, client *http.Client) (*Verifier, error) {
	resp, err := client.Get(strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration")
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("discovery: status %d: %v", resp.StatusCode, err)
	}
	if meta.Issuer != issuer {
		return nil, fmt.Errorf("discovery names issuer %q, not %q", meta.Issuer, issuer)
	}
	return &Verifier{issuer: issuer, audience: audience, keys: NewKeySet(meta.JWKSURI, client), leeway: time.Minute, now: time.Now}, nil
}

// ErrInvalidToken is every reason a token is refused (401).
var ErrInvalidToken = errors.New("invalid access token")

// Verify checks an access token: an at+jwt (RFC 9068 section 4; an ID
// token is not an access token), signed by a key of the issuer's JWKS
// with an allowed algorithm, from this issuer, for this API's audience,
// not expired.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", ErrInvalidToken, typ)
	}
	key, err := v.keys.Key(ctx, h.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Expiry == nil {
		return nil, fmt.Errorf("%w: no exp", ErrInvalidToken)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: jwt.Audience{v.audience}, Time: v.now()}, v.leeway); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Cnf != nil {
		return nil, fmt.Errorf("%w: a DPoP-bound token (cnf) sent as Bearer", ErrInvalidToken)
	}
	return &c, nil
}

type claimsKey struct{}

// ClaimsFrom returns the claims Require put in the request's context.
func ClaimsFrom(ctx context.Context) *Claims { c, _ := ctx.Value(claimsKey{}).(*Claims); return c }

// Require lets through requests whose bearer token verifies and grants
// scope; others get 401 invalid_token or 403 insufficient_scope (RFC 6750).
func (v *Verifier) Require(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		c, err := v.Verify(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if !c.HasScope(scope) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, scope))
			http.Error(w, "the token lacks the scope "+scope, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}
