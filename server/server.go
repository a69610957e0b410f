package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/singleflight"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/consent"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/dpopbinding"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/server/internal/requestobject"
	"github.com/signet-id/signet/telemetry"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
)

// Keys is what the server needs from the key manager. *keymanager.Manager
// implements it.
type Keys interface {
	// SigningKey returns the key that signs a token whose allowed
	// algorithms are allowed (empty: no restriction). Errors wrap
	// keymanager.ErrNoAllowedAlgorithm or keymanager.ErrNotReady.
	SigningKey(allowed []key.Algorithm) (*jws.Key, error)
	// JWKS returns the serialized JWK set and its quoted strong ETag.
	JWKS() *keymanager.JWKS
	// SigningAlgorithms lists the algorithms of the signing credentials.
	SigningAlgorithms() []key.Algorithm
	// Ready returns nil when every configured algorithm can sign.
	Ready() error
	// Keys lists every key with its state, for metrics.
	Keys() []keymanager.KeyInfo
	// Next returns the next scheduled key change, zero if none.
	Next() time.Time
}

// Client is an OAuth 2.0 client allowed to get tokens.
type Client struct {
	ID      string
	Secrets []*clientauth.Secret
	// GrantTypes lists the allowed grant types ("client_credentials").
	GrantTypes []string
	// Scopes lists the scopes the client may request; a request with no
	// scope gets all of them.
	Scopes []string
	// AccessTokenLifetime is the lifetime of the client's access tokens.
	AccessTokenLifetime time.Duration

	// The login flows (see oidc.go). GrantTypes may also list
	// authorization_code and refresh_token.

	// Public marks a client without secrets (token endpoint auth method
	// none); it must use PKCE.
	Public bool
	// RedirectURIs and PostLogoutRedirectURIs are matched exactly.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// RequirePushedAuthorizationRequests refuses the client's plain
	// authorization requests: it must push them (PAR, RFC 9126, par.go).
	RequirePushedAuthorizationRequests bool
	// FAPI2 makes the client follow the FAPI 2.0 Security Profile
	// (securityProfile: fapi2; server/internal/fapi2): pushed requests,
	// PKCE, private_key_jwt, DPoP, PS256/ES256/EdDSA only.
	FAPI2 bool
	// IdentityScopes lists the OpenID Connect scopes the client may
	// request: openid, profile, email, offline_access.
	IdentityScopes []string
	// AllowedIdentityTokenSigningAlgorithms restricts the algorithms of
	// the client's ID tokens; empty means no restriction.
	AllowedIdentityTokenSigningAlgorithms []key.Algorithm
	// RefreshTokenLifetime is the absolute lifetime of a refresh token
	// family, from the code exchange.
	RefreshTokenLifetime time.Duration
	// RefreshTokenReuseInterval is how long after a rotation the rotated
	// refresh token still gets an answer (its successor) instead of a
	// reuse detection (server/internal/granttype/refresh); zero means not
	// at all.
	RefreshTokenReuseInterval time.Duration
	// IDTokenLifetime is the lifetime of the client's ID tokens; zero
	// means DefaultIDTokenLifetime.
	IDTokenLifetime time.Duration
	// AllowedCORSOrigins are the origins (scheme://host[:port]) whose
	// pages may call the token, userinfo and revocation endpoints from
	// JavaScript (cors.go); discovery and the JWKS allow any origin.
	AllowedCORSOrigins []string
	// AllowedConnectors limits how people sign in to the client: the ids
	// of Config.Connectors whose buttons its login page shows, and
	// ConnectorLocal for the username and password form of the user
	// source. Empty: all of them.
	AllowedConnectors []string
	// RequireDPoP refuses the client's token requests without a DPoP
	// proof: every token it gets is DPoP-bound, so none works as Bearer.
	RequireDPoP bool
	// DPoPAlgorithms restricts the algorithms of the client's DPoP proofs
	// below the server's (Config.DPoP.Algorithms); nil: no restriction.
	// A FAPI 2.0 client has PS256, ES256 and EdDSA.
	DPoPAlgorithms []string

	// JWKS holds the public keys of a client that authenticates with
	// private_key_jwt, given inline; JWKSURI is where such a client
	// publishes them, fetched and cached by the rules of
	// clientauth/privatekeyjwt.Remote. With either (not both) the client
	// authenticates with private_key_jwt only, at the token and
	// revocation endpoints.
	JWKS    *privatekeyjwt.StaticKeySet
	JWKSURI string
	// AssertionAlgorithms narrows the algorithms of the client's
	// private_key_jwt assertions (the FAPI 2.0 Security Profile: PS256,
	// ES256, EdDSA); empty means every algorithm the server accepts.
	// AssertionIssuerAudience accepts only the issuer as their aud, not
	// an endpoint URL, as that profile requires.
	AssertionAlgorithms     []key.Algorithm
	AssertionIssuerAudience bool

	// RequireConsent shows the consent page (consent.go) before the
	// client gets a code: the user approves or denies its scopes.
	// AllowRememberConsent lets the user remember an approval, so the
	// page is shown again only for a scope not approved before (or with
	// prompt=consent); it needs Config.Consents.
	RequireConsent       bool
	AllowRememberConsent bool
	// DisplayName, LogoURI and ClientURI are shown on the login and
	// consent pages (branding.go): the client's name (its ID when
	// empty), its logo (an https URL or a data: URI of an image) and its
	// home page.
	DisplayName string
	LogoURI     string
	ClientURI   string
	// RequireMFA makes the client's users sign in with a second factor
	// (enrolling at sign-in if they have none; see MFA). It needs
	// Config.MFA.Manager.
	RequireMFA bool
}

// APIResource is a protected API. Its name is the audience of tokens that
// carry one of its scopes, and the value of the RFC 8707 resource
// parameter that asks for it.
type APIResource struct {
	Name   string
	Scopes []string
	// AllowedSigningAlgorithms restricts the algorithms of tokens for
	// this resource; empty means no restriction.
	AllowedSigningAlgorithms []key.Algorithm
	// Secrets authenticate the resource at the introspection endpoint
	// (its name is the client id); empty means it cannot introspect,
	// unless it has keys.
	Secrets []*clientauth.Secret
	// JWKS holds the public keys of a resource that authenticates at the
	// introspection endpoint with private_key_jwt (iss and sub: its
	// name), given inline; JWKSURI is where it publishes them, fetched
	// and cached as a client's (Client.JWKS, Client.JWKSURI). With either
	// (not both) the resource uses private_key_jwt only: no Secrets.
	JWKS    *privatekeyjwt.StaticKeySet
	JWKSURI string
}

// DefaultMaxBodyBytes bounds a token request body.
const DefaultMaxBodyBytes = 64 << 10

// Config configures a Server.
type Config struct {
	// Issuer is the issuer identifier: an absolute http(s) URL without a
	// trailing slash. Its path, if any, prefixes the OpenID endpoints.
	Issuer string
	// Keys signs tokens and publishes the JWKS. Required.
	Keys Keys
	// Clients and APIResources can be replaced later with SetClients.
	Clients      []Client
	APIResources []APIResource
	// JWKSMaxAge is the Cache-Control max-age of the JWKS and discovery
	// documents (whole seconds; zero allows no caching).
	JWKSMaxAge time.Duration
	// MaxBodyBytes bounds token request bodies; zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives request errors and panics; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand supplies token ids; nil means crypto/rand.
	Rand io.Reader
	// Registry receives the server's metrics; nil means a new registry
	// (see Server.Gatherer).
	Registry *prometheus.Registry
	// ClientKeySets fetches and caches the JWKS of private_key_jwt
	// clients with a JWKSURI; nil means one with the defaults and Now.
	ClientKeySets *privatekeyjwt.Remote
	// Grants keeps authorization codes, refresh tokens, login sessions
	// and revoked access tokens. Nil disables the login flows (authorize,
	// login, userinfo, introspection, revocation, end session): only
	// client_credentials is served.
	Grants grantstore.Store
	// Users sign in on the login page; they need Grants. They are the
	// built-in user source (the YAML users); leave them empty when
	// UserSource is set.
	Users []User
	// UserSource, when set, is where the users come from instead of
	// Users: it checks passwords (inside the server's login budgets),
	// says whether a user is still active (login sessions, code exchange,
	// refresh, userinfo) and gives their claims (userinfo, ID tokens).
	// See package user. It needs Grants.
	UserSource user.Source
	// Login, when set, is the application's own login page, shown instead
	// of the built-in one (see LoginUI). It needs Grants.
	Login LoginUI
	// Connectors are upstream identity sources (package connector): the
	// login page shows a button for each one a client allows
	// (Client.AllowedConnectors). Their users' subjects ("<id>:...") are
	// answered by their connector; every other subject by UserSource (or
	// Users). They need Grants and the built-in login page. With
	// connectors, the page shows the username and password form only
	// when there are local users: the built-in Users, or a UserSource
	// without a HasUsers(context.Context) (bool, error) method, or whose
	// HasUsers says so.
	Connectors *connector.Set
	// RequirePushedAuthorizationRequests refuses every client's plain
	// authorization requests (PAR, RFC 9126); discovery says so.
	RequirePushedAuthorizationRequests bool
	// SessionLifetime is how long a login session lasts; zero means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// SessionIdleTimeout ends a login session unused for longer (each
	// authorization request, consent and account page uses it); zero
	// means none. It needs SessionActivity.
	SessionIdleTimeout time.Duration
	// SessionActivity keeps when each login session was last used, for
	// SessionIdleTimeout; nil means Grants when it implements
	// consent.ActivityStore (every store of package keystore does).
	SessionActivity consent.ActivityStore
	// Consents keeps remembered consent (Client.AllowRememberConsent);
	// nil means Grants when it implements consent.Store (every store of
	// package keystore does). Without one, the consent page is shown at
	// every authorization of a client that requires consent.
	Consents consent.Store
	// UI configures the pages (product name, templates, style sheet,
	// scope descriptions; branding.go).
	UI UI
	// Build labels signet_build_info.
	Build BuildInfo
	// TrustedProxies are reverse proxies whose X-Forwarded-For is
	// believed when finding a client's address (ratelimit.go); empty: the
	// TCP peer is the client.
	TrustedProxies []netip.Prefix
	// Limits are the abuse budgets (throttle.go); zero fields mean
	// their defaults.
	Limits Limits
	// Attempts keeps the counts of the login and client-authentication
	// budgets. Nil means an in-memory table of Limits.TrackedKeys keys
	// (one process); a cluster passes a store its instances share
	// (keystore/pgstore), so the budgets hold across instances.
	Attempts throttle.Store
	// Hashing is the process-wide password hashing budget. Nil means a
	// new one of Limits.PasswordHashingMemoryKiB and PasswordHashingQueue;
	// servers in one process may share one.
	Hashing *throttle.Hashing
	// DPoP configures the checks of DPoP proofs (RFC 9449); the zero
	// value accepts proofs with package dpop's defaults and no nonces.
	DPoP DPoP
	// Tracing, when set, traces every request (an otelhttp span), the
	// Grants and Attempts stores, password hashing and each signature
	// (see package telemetry). Nil, the default, wraps nothing.
	Tracing *telemetry.Tracing
	// MFA is the second factor (TOTP and recovery codes, mfa.go); the
	// zero value has none.
	MFA MFA
	// AdminAPI, when set, serves /admin/v1/ (package adminapi, which
	// authorises every request itself) on AdminHandler; AdminAPIPublic
	// serves it on the public handler instead, under the issuer's path
	// (for a deployment without an admin listener).
	AdminAPI       http.Handler
	AdminAPIPublic bool
	// Registration, when set, serves dynamic client registration (RFC
	// 7591/7592, register.go) and names it in discovery.
	Registration *Registration
}

// DPoP configures the server's DPoP (server/internal/dpopbinding).
type DPoP struct {
	// Algorithms are the proof algorithms accepted and announced in
	// discovery; nil means dpop.DefaultAlgorithms().
	Algorithms []string
	// ProofWindow is how far a proof's iat may be from the clock; zero
	// means dpop.DefaultWindow.
	ProofWindow time.Duration
	// RequireNonce makes every proof carry a server nonce
	// (use_dpop_nonce, DPoP-Nonce).
	RequireNonce bool
	// NonceSecret keys the nonces (at least 32 bytes): every instance of
	// a cluster must have the same one to accept the others' nonces. Nil
	// with RequireNonce: a random secret of this instance.
	NonceSecret []byte
}

// Server serves Signet's HTTP endpoints. Create it with New. It is safe
// for concurrent use.
type Server struct {
	issuer     string
	issuerJSON []byte // the issuer as a JSON string
	prefix     string // the issuer's path
	keys       Keys
	maxAge     string // "public, max-age=N"
	jwks       *keymanager.JWKSHandler
	maxBody    int64
	log        *slog.Logger
	now        func() time.Time
	rand       io.Reader
	registry   *prometheus.Registry
	metrics    *metrics
	handler    http.Handler
	admin      http.Handler      // AdminHandler
	routes     map[string]string // mux pattern -> route label
	proxies    []netip.Prefix    // trusted reverse proxies
	limits     Limits            // defaults applied
	attempts   *throttle.Limiter // login and client-auth budgets
	hashing    clientauth.Budget // argon2id memory (*throttle.Hashing, traced or not)
	tracer     trace.Tracer      // signing spans; nil when tracing is off

	clientFlights singleflight.Group // concurrent identical client credentials: one verification
	// assertions verifies private_key_jwt client assertions; clientKeySets
	// holds the clients' remote JWKS (clientkeys.go).
	assertions    *privatekeyjwt.Verifier
	clientKeySets *privatekeyjwt.Remote

	// The request pipeline (pipeline.go): client authentication methods,
	// grant types and authorization-request extensions.
	secretMethods []clientauthn.Method // client_credentials
	clientMethods []clientauthn.Method // login flows and revocation (with none)
	// introspectMethods authenticate API resources by private_key_jwt at
	// the introspection endpoint (secrets: checkClientSecret).
	introspectMethods []clientauthn.Method
	// authzExtensions check authorization requests, in order (PKCE); the
	// authorization_code grant checks the code's binding with them.
	authzExtensions []authorize.Extension
	// grantTypes serve the token endpoint, by grant_type.
	grantTypes map[string]granttype.Handler
	// requestObjects verifies request objects (requestobject.go); nil
	// without the login flows.
	requestObjects *requestobject.Verifier
	// dpop checks DPoP proofs at the token endpoint and userinfo.
	dpop *dpopbinding.Binding

	mfa       *mfaPolicy                // Config.MFA; nil: no second factor
	passkeys  *passkeys                 // WebAuthn passkeys (passkey.go); nil: none
	reg       atomic.Pointer[registry]  // clients and resources
	discovery atomic.Pointer[discovery] // pre-built discovery document
	oidc      *oidcState                // the login flows; nil when disabled
	adminAPI  http.Handler              // /admin/v1/; nil when off
	register  *registerer               // dynamic registration; nil when off
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Keys == nil {
		return nil, errors.New("server: Config.Keys is required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.HasSuffix(cfg.Issuer, "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("server: issuer %q must be an absolute http(s) URL without a trailing slash, query or fragment", cfg.Issuer)
	}
	if cfg.JWKSMaxAge < 0 {
		return nil, errors.New("server: JWKSMaxAge must not be negative")
	}
	s := &Server{
		issuer:     cfg.Issuer,
		issuerJSON: oauth.AppendJSONString(nil, cfg.Issuer),
		prefix:     u.EscapedPath(),
		keys:       cfg.Keys,
		maxAge:     keymanager.CacheControl(cfg.JWKSMaxAge),
		maxBody:    cfg.MaxBodyBytes,
		log:        cfg.Logger,
		now:        cfg.Now,
		rand:       cfg.Rand,
		registry:   cfg.Registry,
		proxies:    slices.Clone(cfg.TrustedProxies),
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	// One JWKS implementation: the key manager's handler, with the
	// server's own 503 answer.
	if s.jwks, err = keymanager.NewJWKSHandler(cfg.Keys, keymanager.JWKSHandlerOptions{MaxAge: cfg.JWKSMaxAge, NotReady: s.notReady}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.limits, err = cfg.Limits.WithDefaults(); err != nil {
		return nil, fmt.Errorf("server: Limits: %w", err)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	attempts := cfg.Attempts
	if attempts == nil {
		attempts = throttle.NewMemory(s.limits.TrackedKeys)
	}
	// The consent and activity stores are found on the grant store
	// before tracing wraps it.
	if cfg.Consents == nil {
		cfg.Consents, _ = cfg.Grants.(consent.Store)
	}
	if cfg.SessionActivity == nil {
		cfg.SessionActivity, _ = cfg.Grants.(consent.ActivityStore)
	}
	if t := cfg.Tracing; t != nil {
		attempts = t.AttemptStore(attempts)
		if cfg.Grants != nil {
			cfg.Grants = t.GrantStore(cfg.Grants)
		}
	}
	s.attempts = throttle.NewLimiter(attempts, s.now)
	hashing := cfg.Hashing
	if hashing == nil {
		hashing = throttle.NewHashing(s.limits.PasswordHashingMemoryKiB, s.limits.PasswordHashingQueue)
	}
	s.hashing = hashing
	if t := cfg.Tracing; t != nil {
		s.hashing, s.tracer = t.Budget(hashing), t.Tracer
	}
	if s.dpop, err = s.newDPoP(cfg); err != nil {
		return nil, err
	}
	if err := s.newRequestObjects(cfg.Grants); err != nil {
		return nil, err
	}
	if err := s.newAssertionVerifier(cfg); err != nil {
		return nil, err
	}
	s.assemblePipeline(cfg.Grants != nil)
	s.mfa = newMFAPolicy(cfg.MFA)
	pk, err := newPasskeys(cfg.MFA.Manager, cfg.Issuer, cfg.UI.ProductName)
	if err != nil {
		return nil, err
	}
	s.passkeys = pk
	if err := s.SetClients(cfg.Clients, cfg.APIResources); err != nil {
		return nil, err
	}
	s.metrics, err = newMetrics(s.registry, s.keys, s.now, cfg.Build)
	if err != nil {
		return nil, err
	}
	if s.oidc, err = newOIDC(cfg, s); err != nil {
		return nil, err
	}
	if s.register, err = s.newRegisterer(cfg.Registration); err != nil {
		return nil, err
	}
	s.adminAPI = cfg.AdminAPI
	adminOnPublic := cfg.AdminAPIPublic
	s.handler = s.buildHandler(adminOnPublic)
	if cfg.Tracing != nil {
		s.handler = cfg.Tracing.Handler(s.handler)
	}
	s.admin = s.buildAdminHandler(!adminOnPublic)
	return s, nil
}

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// Gatherer returns the registry the server's metrics are in.
func (s *Server) Gatherer() prometheus.Gatherer { return s.registry }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Paths of the OpenID endpoints, relative to the issuer.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathJWKS      = "/.well-known/openid-configuration/jwks"
	PathToken     = "/connect/token"
)

func (s *Server) buildHandler(adminAPI bool) http.Handler {
	mux := http.NewServeMux()
	s.routes = make(map[string]string)
	handle := func(pattern, route string, h http.HandlerFunc) {
		mux.Handle(pattern, h)
		s.routes[pattern] = route
	}
	// Endpoints a browser application calls with its tokens get CORS
	// headers for the clients' origins and a preflight route (cors.go).
	handleCORS := func(path, route, methods string, h http.HandlerFunc) {
		handle(path, route, s.cors(h))
		handle("OPTIONS "+path, route, s.preflight(methods))
	}
	// Discovery and the JWKS are public: any origin may read them.
	handle("GET "+s.prefix+PathDiscovery, "discovery", s.serveDiscovery)
	handle("GET "+s.prefix+PathJWKS, "jwks", s.jwks.ServeHTTP)
	// Every method but OPTIONS reaches serveToken: 405 with a JSON body.
	handleCORS(s.prefix+PathToken, "token", "POST", s.serveToken)
	s.addLoginRoutes(handle, handleCORS)
	handle("GET /healthz", "healthz", s.serveHealthz)
	handle("GET /readyz", "readyz", s.servePublicReadyz)
	if s.register != nil {
		s.register.routes(handle)
	}
	if adminAPI && s.adminAPI != nil {
		h := http.StripPrefix(s.prefix, s.adminAPI)
		handle(s.prefix+adminAPIPrefix, "admin_api", h.ServeHTTP)
	}
	// /metrics and the detailed /readyz: AdminHandler (health.go).
	return s.wrap(mux)
}
