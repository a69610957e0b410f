package adminauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/keymanager"
)

// The audience and scopes of admin tokens. When the admin API is enabled
// Signet defines a built-in API resource of this name with these scopes
// (config adminAPI); a client gets them by listing them in its scopes.
const (
	Audience   = "signet-admin"
	ScopeRead  = "signet.admin.read"
	ScopeWrite = "signet.admin.write"
	// ScopeRegister is an initial access token of dynamic registration
	// (RFC 7591 section 3): it registers clients and does nothing else.
	ScopeRegister = "signet.admin.register"
)

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// Algorithms are the signature algorithms accepted: those Signet signs
// with. Never "none", never HMAC.
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// ErrInvalidToken is every reason a token is refused (401 invalid_token).
var ErrInvalidToken = errors.New("adminauth: invalid access token")

// ErrInsufficientScope is a valid token without the needed scope (403).
var ErrInsufficientScope = errors.New("adminauth: insufficient scope")

// KeySet is the published key set: what the JWKS endpoint serves.
// *keymanager.Manager implements it.
type KeySet interface {
	JWKS() *keymanager.JWKS
}

// Claims are the RFC 9068 claims the admin API uses.
type Claims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Cnf      *struct {
		JKT string `json:"jkt"`
	} `json:"cnf,omitempty"`
}

// Has says whether the token grants scope. A write token may also read.
func (c *Claims) Has(scope string) bool {
	scopes := strings.Fields(c.Scope)
	return slices.Contains(scopes, scope) || (scope == ScopeRead && slices.Contains(scopes, ScopeWrite))
}

// Verifier checks admin tokens. It is safe for concurrent use.
type Verifier struct {
	issuer string
	keys   KeySet
	now    func() time.Time
	leeway time.Duration

	mu   sync.Mutex
	etag string // of the parsed set
	set  *jose.JSONWebKeySet
}

// NewVerifier returns a verifier of tokens from issuer whose keys are in
// keys' published set; now is the clock (nil: time.Now).
func NewVerifier(issuer string, keys KeySet, now func() time.Time) (*Verifier, error) {
	if issuer == "" || keys == nil {
		return nil, errors.New("adminauth: NewVerifier needs the issuer and the key set")
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{issuer: issuer, keys: keys, now: now, leeway: DefaultLeeway}, nil
}

// keySet returns the published set, parsed once per ETag.
func (v *Verifier) keySet() (*jose.JSONWebKeySet, error) {
	j := v.keys.JWKS()
	if j == nil {
		return nil, errors.New("no published key set")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.set != nil && v.etag == j.ETag {
		return v.set, nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(j.Body, &set); err != nil {
		return nil, fmt.Errorf("the published key set does not parse: %w", err)
	}
	v.set, v.etag = &set, j.ETag
	return v.set, nil
}

// Verify checks raw and returns its claims; errors wrap ErrInvalidToken.
func (v *Verifier) Verify(raw string) (*Claims, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", ErrInvalidToken, typ)
	}
	set, err := v.keySet()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var key *jose.JSONWebKey
	for _, k := range set.Key(h.KeyID) {
		if k.Use == "" || k.Use == "sig" {
			key = &k
			break
		}
	}
	if h.KeyID == "" || key == nil {
		return nil, fmt.Errorf("%w: kid %q is not in the published key set", ErrInvalidToken, h.KeyID)
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("%w: the key %q is for %s, the token says %s", ErrInvalidToken, h.KeyID, key.Algorithm, h.Algorithm)
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return nil, fmt.Errorf("%w: the signature does not verify with the published key %q: %v", ErrInvalidToken, h.KeyID, err)
	}
	if c.Expiry == nil {
		return nil, fmt.Errorf("%w: no exp", ErrInvalidToken)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, AnyAudience: jwt.Audience{Audience}, Time: v.now()}, v.leeway); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Cnf != nil {
		return nil, fmt.Errorf("%w: a DPoP-bound token (cnf) sent as Bearer", ErrInvalidToken)
	}
	if c.ClientID == "" {
		return nil, fmt.Errorf("%w: no client_id", ErrInvalidToken)
	}
	return &c, nil
}

type claimsKey struct{}

// ClaimsFrom returns the claims Require put in ctx, nil if none.
func ClaimsFrom(ctx context.Context) *Claims { c, _ := ctx.Value(claimsKey{}).(*Claims); return c }

// WithClaims returns ctx carrying c (for handlers tested without Require).
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Require lets through requests whose bearer token verifies and grants
// scope; others get 401 invalid_token or 403 insufficient_scope (RFC 6750
// section 3) with a JSON body {"error","error_description"}.
func (v *Verifier) Require(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.authenticate(r)
		if err == nil && !c.Has(scope) {
			err = fmt.Errorf("%w: the token lacks the scope %s", ErrInsufficientScope, scope)
		}
		if err != nil {
			WriteError(w, err, scope)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), c)))
	})
}

// BearerToken returns the Bearer token of r, "" if r has no
// Authorization header; ok is false when the header is there but is not
// one "Bearer <token>".
func BearerToken(r *http.Request) (tok string, ok bool) {
	auth := r.Header.Values("Authorization")
	if len(auth) == 0 {
		return "", true
	}
	scheme, raw, found := strings.Cut(auth[0], " ")
	raw = strings.TrimSpace(raw)
	if len(auth) > 1 || !found || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return "", false
	}
	return raw, true
}

// authenticate reads the Bearer token of r and verifies it.
func (v *Verifier) authenticate(r *http.Request) (*Claims, error) {
	raw, ok := BearerToken(r)
	if !ok {
		return nil, fmt.Errorf("%w: the Authorization header must be one \"Bearer <access token>\"", ErrInvalidToken)
	}
	if raw == "" {
		return nil, errMissing
	}
	return v.Verify(raw)
}

var errMissing = errors.New("adminauth: no access token")

// WriteError answers err as RFC 6750 says: 401 with WWW-Authenticate
// Bearer (no error code when the token is missing), or 403
// insufficient_scope naming scope.
func WriteError(w http.ResponseWriter, err error, scope string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	var code, desc string
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, errMissing):
		h.Set("WWW-Authenticate", `Bearer realm="signet-admin"`)
		code, desc = "invalid_token", "an access token for the audience "+Audience+" is required: Authorization: Bearer <token>"
	case errors.Is(err, ErrInsufficientScope):
		status = http.StatusForbidden
		h.Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="signet-admin", error="insufficient_scope", scope=%q`, scope))
		code, desc = "insufficient_scope", "the token lacks the scope "+scope+"; ask for it at the token endpoint"
	default:
		h.Set("WWW-Authenticate", `Bearer realm="signet-admin", error="invalid_token"`)
		code, desc = "invalid_token", strings.TrimPrefix(err.Error(), "adminauth: ")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
