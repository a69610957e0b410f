package granttype

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-id/signet/grant"

	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Request is a token request, parsed, with its client authenticated.
type Request struct {
	HTTP      *http.Request
	GrantType string
	// Form holds the body's parameters, each at most once, for the
	// grants that accept public clients (Handler.Public); nil otherwise.
	Form map[string]string
	// Scope (raw) and Resources (RFC 8707) are the scope and resource
	// parameters of a client_credentials request.
	Scope     string
	Resources []string
	// Client is the authenticated client.
	Client *Client
	// DPoPJKT is the RFC 7638 thumbprint of the key of the request's
	// verified DPoP proof (server/internal/dpopbinding), "" without one:
	// the tokens issued are bound to that key.
	DPoPJKT string
	// State is the server's own per-request state, handed back to its
	// Env; handlers leave it alone.
	State any
}

// Client is what the grants need to know about the authenticated client.
type Client struct {
	ID string
	// Public marks a client without secrets (method none).
	Public bool
	// The grant types the client may use.
	ClientCredentials bool
	Code              bool
	Refresh           bool
	// AccessLifetime is the lifetime of its access tokens, and
	// RefreshLifetime the absolute lifetime of a refresh token family.
	AccessLifetime  time.Duration
	RefreshLifetime time.Duration
	// ReuseInterval is how long after a rotation the rotated refresh
	// token still gets its successor (granttype/refresh).
	ReuseInterval time.Duration
}

// Response is a successful token response.
type Response struct {
	// Body is the JSON response.
	Body []byte
	// Alg is the access token's signing algorithm (metrics).
	Alg string
}

// Handler serves one grant type.
type Handler interface {
	// GrantType is the grant_type value it serves.
	GrantType() string
	// Public reports whether public clients (method none) may use it;
	// its requests then carry every parameter in Request.Form.
	Public() bool
	// Handle serves r. Body in the response may point into memory that
	// is reused once the response is written.
	Handle(r *Request) (*Response, *oauth.Error)
}

// UnauthorizedClient is the answer to a client that may not use the
// grant type.
func UnauthorizedClient(grantType string) *oauth.Error {
	return &oauth.Error{Status: http.StatusBadRequest, Code: "unauthorized_client", Desc: "the client may not use the " + grantType + " grant"}
}

// The single answers for an unusable code or refresh token: the client
// learns nothing more.
const (
	MsgBadCode    = "the authorization code is invalid, expired, already used, or was issued to another client or redirect URI"
	MsgBadRefresh = "the refresh token is invalid, expired, revoked or was issued to another client"
)

// CodeData is the payload of an authorization code grant.
type CodeData struct {
	RedirectURI string `json:"redirect_uri"`
	// The extensions' binding: code_challenge.
	authorize.Binding
	Scope    string `json:"scope"`
	Nonce    string `json:"nonce,omitempty"`
	AuthTime int64  `json:"auth_time"`
	// JTI is the id of the access token the exchange issues, fixed now so
	// that a replay can revoke it.
	JTI string `json:"jti"`
	// AMR and ACR say how the user signed in (the login session's): the
	// ID token's amr and acr. Empty in codes of earlier versions.
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
	// IDTokenClaims and UserinfoClaims are the claims the request asked
	// for with the claims parameter (OpenID Connect Core 5.5) that the
	// client may get.
	IDTokenClaims  []string `json:"id_token_claims,omitempty"`
	UserinfoClaims []string `json:"userinfo_claims,omitempty"`
}

// RefreshData is the payload of a refresh token grant.
type RefreshData struct {
	// Scope is what the family was granted; every rotation keeps it.
	Scope    string `json:"scope"`
	AuthTime int64  `json:"auth_time"`
	// JTI is the access token issued with this refresh token; NextJTI the
	// one its redemption issues, fixed now so that a reuse or a
	// revocation can revoke it.
	JTI     string `json:"jti"`
	NextJTI string `json:"next_jti"`
	// Seed derives the handle of this token's successor from its own
	// handle (granttype/refresh); empty in tokens of earlier versions.
	Seed string `json:"seed,omitempty"`
	// JKT binds the token to a DPoP key (RFC 9449 section 5: a public
	// client's refresh tokens): its redemption needs a proof by that key.
	JKT string `json:"jkt,omitempty"`
	// AMR and ACR are the sign-in's (CodeData), kept by every rotation;
	// so are the claims asked for with the claims parameter.
	AMR            []string `json:"amr,omitempty"`
	ACR            string   `json:"acr,omitempty"`
	IDTokenClaims  []string `json:"id_token_claims,omitempty"`
	UserinfoClaims []string `json:"userinfo_claims,omitempty"`
}

// Issue is what a user's tokens are made of.
type Issue struct {
	Subject  string
	Scopes   []string // granted to the access token
	AuthTime int64
	// AMR and ACR say how the user signed in (the ID token's amr, acr).
	AMR []string
	ACR string
	// IDTokenClaims and UserinfoClaims: the claims parameter's.
	IDTokenClaims  []string
	UserinfoClaims []string
	SID            string
	Nonce          string // the ID token's nonce (code exchange only)
	JTI            string // the access token's id
	// Family, FamilyExpires and FamilyScope describe the refresh token to
	// issue; Family "" issues none.
	Family        string
	FamilyExpires time.Time
	FamilyScope   string
	// Handle is the secret part of the refresh token's handle when it is
	// derived from its predecessor (granttype/refresh); "" draws a random
	// one. The handle is the family id, a dot, and the secret part.
	Handle string
}

// Env is what the authorization_code and refresh_token grants need from
// the server.
type Env interface {
	Now() time.Time
	Log() *slog.Logger
	// Grants is the grant store.
	Grants() grant.Store
	// ReadGrant loads the grant behind handle and decodes its data into
	// v. A missing grant, one of another kind or with undecodable data is
	// invalid_grant with the single message bad; a store failure is
	// logged as failed and is temporarily_unavailable.
	ReadGrant(ctx context.Context, handle string, kind grant.Kind, v any, bad, failed string) (grant.Grant, *oauth.Error)
	// ConsumeGrant uses the grant id once, atomically in the store, and
	// stores next (nil: none) in the same transaction. A second use calls
	// replayed with the grant and is invalid_grant, as are a grant gone,
	// expired or revoked since it was read; a store failure is logged as
	// failed.
	ConsumeGrant(ctx context.Context, id string, now time.Time, next *grant.Grant, bad, failed string, replayed func(grant.Grant)) (grant.Grant, *oauth.Error)
	// GrantRefused logs why g was refused and returns the one answer.
	GrantRefused(r *http.Request, g grant.Grant, what, reason string) *oauth.Error
	// RevokeFamily revokes a refresh token family and the access tokens
	// jtis (each until lifetime from now).
	RevokeFamily(ctx context.Context, family string, lifetime time.Duration, jtis ...string) error
	// UserActive checks with the user source that the user subject is
	// still active: nil, invalid_grant (removed, unknown or disabled) or
	// temporarily_unavailable (the source failed).
	UserActive(ctx context.Context, subject string) *oauth.Error
	// CheckScopes checks, before a code or refresh token is used up, that
	// the client still has every scope the tokens would carry.
	CheckScopes(r *Request, scopes []string) *oauth.Error
	// IssueUserTokens signs the tokens of in for r's client and returns
	// the response body, the access token's algorithm and the refresh
	// token to store (nil: none).
	IssueUserTokens(r *Request, in Issue) (body []byte, alg string, rt *grant.Grant, e *oauth.Error)
}
