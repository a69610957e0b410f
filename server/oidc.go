package server

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/consent"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/granttype/authcode"
	"github.com/signet-id/signet/server/internal/granttype/refresh"
	"github.com/signet-id/signet/user"
)

// Paths of the login-flow endpoints, relative to the issuer. They are
// served only when Config.Grants is set.
const (
	PathAuthorize  = "/connect/authorize"
	PathUserinfo   = "/connect/userinfo"
	PathIntrospect = "/connect/introspect"
	PathRevocation = "/connect/revocation"
	PathEndSession = "/connect/endsession"
	PathLogin      = "/account/login"
)

// Grant types of the login flows.
const (
	grantAuthorizationCode = authcode.GrantType
	grantRefreshToken      = refresh.GrantType
)

// Identity scopes: the OpenID Connect scopes Signet serves itself.
const (
	scopeOpenID        = "openid"
	scopeProfile       = "profile"
	scopeEmail         = "email"
	scopeAddress       = "address"
	scopePhone         = "phone"
	scopeGroups        = "groups" // the groups claim, a list (user.ScopeClaims)
	scopeOfflineAccess = "offline_access"
)

// Lifetimes of the login flows.
const (
	// CodeLifetime is the lifetime of an authorization code.
	CodeLifetime = 60 * time.Second
	// DefaultIDTokenLifetime is the lifetime of a client's ID tokens when
	// Client.IDTokenLifetime is zero.
	DefaultIDTokenLifetime = 5 * time.Minute
	// DefaultSessionLifetime is how long a login session lasts when
	// Config.SessionLifetime is zero.
	DefaultSessionLifetime = 10 * time.Hour
)

// isIdentityScope reports whether sc is served by Signet itself.
func isIdentityScope(sc string) bool {
	switch sc {
	case scopeOpenID, scopeProfile, scopeEmail, scopeAddress, scopePhone, scopeGroups, scopeOfflineAccess:
		return true
	}
	return false
}

// oidcState is the state of the login flows; nil when Config.Grants is.
type oidcState struct {
	grants          grantstore.Store
	users           atomic.Pointer[userRegistry] // Config.Users (SetUsers)
	source          user.Source                  // Config.UserSource, or staticSource over users
	custom          bool                         // source is Config.UserSource
	loginUI         LoginUI                      // Config.Login; nil: the built-in page
	pages           *pages
	sessionLifetime time.Duration
	secureCookies   bool   // the issuer is https
	cookiePath      string // the issuer's path + "/"
	requirePAR      bool   // Config.RequirePushedAuthorizationRequests
	jwks            atomic.Pointer[jwksCache]
	verified        *verifiedTokens // access tokens that verified (tokencache.go)
	unused          *unusedGrants   // codes and refresh tokens stored here, not used yet (unusedgrants.go)
	// consents keeps remembered consent (nil: none); activity and
	// idleTimeout end idle sessions (consent.go, branding.go).
	consents    consent.Store
	activity    consent.ActivityStore
	idleTimeout time.Duration
	ui          uiState
	connectors  *connector.Set // Config.Connectors; nil: none
	localSource user.Source    // source before the connectors' routing
}

func newOIDC(cfg Config, s *Server) (*oidcState, error) {
	if cfg.Grants == nil {
		switch {
		case len(cfg.Users) > 0:
			return nil, errors.New("server: users are configured but Config.Grants is nil; the login flows need a grant store")
		case cfg.UserSource != nil:
			return nil, errors.New("server: Config.UserSource is set but Config.Grants is nil; the login flows need a grant store")
		case cfg.Login != nil:
			return nil, errors.New("server: Config.Login is set but Config.Grants is nil; the login flows need a grant store")
		}
		return nil, nil
	}
	if cfg.UserSource != nil && len(cfg.Users) > 0 {
		return nil, errors.New("server: both Config.Users and Config.UserSource are set; give the users to one source (Config.Users is the built-in one)")
	}
	if cfg.SessionLifetime < 0 {
		return nil, errors.New("server: SessionLifetime must not be negative")
	}
	if cfg.SessionIdleTimeout < 0 {
		return nil, errors.New("server: SessionIdleTimeout must not be negative")
	}
	if cfg.SessionIdleTimeout > 0 && cfg.SessionActivity == nil {
		return nil, errors.New("server: SessionIdleTimeout needs a store that keeps session activity (Config.SessionActivity, or a Grants store that implements consent.ActivityStore)")
	}
	o := &oidcState{
		verified:        newVerifiedTokens(),
		unused:          newUnusedGrants(unusedGrantsCapacity),
		grants:          cfg.Grants,
		sessionLifetime: cfg.SessionLifetime,
		secureCookies:   len(s.issuer) > 8 && s.issuer[:8] == "https://",
		cookiePath:      s.prefix + "/",
		requirePAR:      cfg.RequirePushedAuthorizationRequests,
		consents:        cfg.Consents,
		activity:        cfg.SessionActivity,
		idleTimeout:     cfg.SessionIdleTimeout,
		ui:              uiState{scopeDescriptions: maps.Clone(cfg.UI.ScopeDescriptions)},
	}
	if o.sessionLifetime == 0 {
		o.sessionLifetime = DefaultSessionLifetime
	}
	var err error
	if o.pages, err = newPages(cfg.UI); err != nil {
		return nil, err
	}
	reg, err := compileUsers(cfg.Users, s.rand)
	if err != nil {
		return nil, err
	}
	o.users.Store(reg)
	o.source, o.custom, o.loginUI = cfg.UserSource, cfg.UserSource != nil, cfg.Login
	if !o.custom {
		o.source = staticSource{users: &o.users, hashing: s.hashing}
	}
	o.localSource = o.source
	if cfg.Connectors != nil {
		if cfg.Login != nil {
			return nil, errors.New("server: Config.Connectors need the built-in login page, but Config.Login is set; a custom login page signs people in upstream itself (LoginRequest.Continuation)")
		}
		o.connectors = cfg.Connectors
		o.source = cfg.Connectors.Source(o.source)
	}
	return o, nil
}

// loginClient is what the login flows need to know about a client.
type loginClient struct {
	// Client is what the grant types need (server/internal/granttype):
	// id, public, the grant types allowed, lifetimes, the reuse interval
	// (granttype/refresh).
	granttype.Client
	redirectURIs   []string
	postLogoutURIs []string
	identityScopes []string
	idAlgs         []key.Algorithm // nil: no restriction
	idLifetime     time.Duration
	// requirePAR refuses plain authorization requests: the client must
	// push them (par.go); fapi2 makes it follow the FAPI 2.0 Security
	// Profile (server/internal/fapi2).
	requirePAR, fapi2 bool
	// requireConsent shows the consent page; allowRemember lets the user
	// remember it (consent.go). displayName, logoURI and clientURI brand
	// the pages (branding.go).
	requireConsent, allowRemember   bool
	displayName, logoURI, clientURI string
	// allowedConnectors is Client.AllowedConnectors; nil: all.
	allowedConnectors []string
	// requireMFA: the client's users sign in with a second factor (mfa.go).
	requireMFA bool
}

// compileLogin adds the login-flow view of the clients and the
// introspection secrets of the resources to reg.
func compileLogin(reg *registry, clients []Client, resources []APIResource) error {
	reg.login = make(map[string]*loginClient, len(clients))
	reg.introspect = make(map[string][]*clientauth.Secret)
	for _, r := range resources {
		if len(r.Secrets) > 0 {
			reg.introspect[r.Name] = r.Secrets
		}
	}
	for _, c := range clients {
		lc := &loginClient{
			Client: granttype.Client{
				ID:                c.ID,
				Public:            c.Public,
				ClientCredentials: slices.Contains(c.GrantTypes, grantClientCredentials),
				Code:              slices.Contains(c.GrantTypes, grantAuthorizationCode),
				Refresh:           slices.Contains(c.GrantTypes, grantRefreshToken),
				AccessLifetime:    c.AccessTokenLifetime,
				RefreshLifetime:   c.RefreshTokenLifetime,
				ReuseInterval:     max(0, c.RefreshTokenReuseInterval),
			},
			redirectURIs:      slices.Clone(c.RedirectURIs),
			postLogoutURIs:    slices.Clone(c.PostLogoutRedirectURIs),
			identityScopes:    slices.Clone(c.IdentityScopes),
			idAlgs:            slices.Clone(c.AllowedIdentityTokenSigningAlgorithms),
			idLifetime:        cmp.Or(c.IDTokenLifetime, DefaultIDTokenLifetime),
			requirePAR:        c.RequirePushedAuthorizationRequests || c.FAPI2,
			fapi2:             c.FAPI2,
			requireConsent:    c.RequireConsent,
			allowRemember:     c.AllowRememberConsent,
			displayName:       c.DisplayName,
			logoURI:           c.LogoURI,
			clientURI:         c.ClientURI,
			allowedConnectors: slices.Clone(c.AllowedConnectors),
			requireMFA:        c.RequireMFA,
		}
		if err := checkBranding(c); err != nil {
			return err
		}
		if err := checkFAPI2(c, lc); err != nil {
			return err
		}
		for _, sc := range lc.identityScopes {
			if !isIdentityScope(sc) {
				return fmt.Errorf("server: client %q: %q is not an identity scope (openid, profile, email, offline_access)", c.ID, sc)
			}
		}
		if c.Public && len(c.Secrets) > 0 {
			return fmt.Errorf("server: client %q is public and has secrets", c.ID)
		}
		if lc.Code && len(lc.redirectURIs) == 0 {
			return fmt.Errorf("server: client %q allows authorization_code without redirect URIs", c.ID)
		}
		if lc.Refresh && lc.RefreshLifetime < time.Second {
			return fmt.Errorf("server: client %q: refresh token lifetime %s is shorter than a second", c.ID, lc.RefreshLifetime)
		}
		reg.login[c.ID] = lc
	}
	return nil
}

// randomHandle returns n random bytes from s.rand, base64url-encoded.
func (s *Server) randomHandle(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("server: reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// addLoginRoutes registers the login-flow endpoints when they are enabled.
func (s *Server) addLoginRoutes(handle func(pattern, route string, h http.HandlerFunc),
	handleCORS func(path, route, methods string, h http.HandlerFunc)) {
	if s.oidc == nil {
		return
	}
	handle(s.prefix+PathAuthorize, "authorize", s.serveAuthorize)
	handle(s.prefix+PathLogin, "login", s.serveLogin)
	handle(s.prefix+PathConsent, "consent", s.serveConsent)
	handle(s.prefix+PathAccount, "account", s.serveAccount)
	handle("GET "+s.prefix+PathLogin+"/{connector}/callback", "connector_callback", s.serveConnectorCallback)
	handle(s.prefix+PathLoginMFA, "login_mfa", s.serveLoginMFA)
	handle(s.prefix+PathPAR, "par", s.servePAR)
	handleCORS(s.prefix+PathUserinfo, "userinfo", "GET, POST", s.serveUserinfo)
	handle(s.prefix+PathIntrospect, "introspect", s.serveIntrospect)
	handleCORS(s.prefix+PathRevocation, "revocation", "POST", s.serveRevocation)
	handle(s.prefix+PathEndSession, "endsession", s.serveEndSession)
}

// loginDiscovery is the discovery metadata of the login flows; every
// field is omitted when they are not served.
type loginDiscovery struct {
	AuthorizationEndpoint                              string   `json:"authorization_endpoint,omitempty"`
	UserinfoEndpoint                                   string   `json:"userinfo_endpoint,omitempty"`
	IntrospectionEndpoint                              string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                                 string   `json:"revocation_endpoint,omitempty"`
	EndSessionEndpoint                                 string   `json:"end_session_endpoint,omitempty"`
	ResponseModesSupported                             []string `json:"response_modes_supported,omitempty"`
	SubjectTypesSupported                              []string `json:"subject_types_supported,omitempty"`
	CodeChallengeMethodsSupported                      []string `json:"code_challenge_methods_supported,omitempty"`
	ClaimsSupported                                    []string `json:"claims_supported,omitempty"`
	PromptValuesSupported                              []string `json:"prompt_values_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported             []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpointAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	AuthorizationResponseIssParameterSupported         bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	// PAR (RFC 9126 section 5; par.go).
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`
	// Request objects (RFC 9101; requestobject.go).
	RequestObjectSigningAlgValuesSupported []string `json:"request_object_signing_alg_values_supported,omitempty"`
	// The authentication context classes (authn.go, mfa.go).
	ACRValuesSupported []string `json:"acr_values_supported,omitempty"`
	// The claims request parameter (claimsparam.go).
	ClaimsParameterSupported bool `json:"claims_parameter_supported,omitempty"`
}

// addLoginDiscovery adds the login flows to the discovery document.
func (s *Server) addLoginDiscovery(doc *discoveryDoc) {
	doc.AuthorizationEndpoint = s.issuer + PathAuthorize
	doc.UserinfoEndpoint = s.issuer + PathUserinfo
	doc.IntrospectionEndpoint = s.issuer + PathIntrospect
	doc.RevocationEndpoint = s.issuer + PathRevocation
	doc.EndSessionEndpoint = s.issuer + PathEndSession
	doc.ScopesSupported = append([]string{scopeOpenID, scopeProfile, scopeEmail, scopeAddress, scopePhone, scopeGroups, scopeOfflineAccess}, doc.ScopesSupported...)
	doc.ResponseTypesSupported = []string{"code"}
	doc.ResponseModesSupported = []string{"query"}
	doc.GrantTypesSupported = []string{grantAuthorizationCode, grantClientCredentials, grantRefreshToken}
	doc.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
	doc.SubjectTypesSupported = []string{"public"}
	doc.CodeChallengeMethodsSupported = []string{"S256"}
	doc.ClaimsSupported = append([]string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "acr", "amr"},
		scopeClaims(scopeProfile, scopeEmail, scopeAddress, scopePhone, scopeGroups)...)
	doc.PromptValuesSupported = []string{"none", "login", "consent", "select_account"}
	doc.IntrospectionEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
	doc.IntrospectionEndpointAuthSigningAlgValuesSupported = s.assertionAlgorithms()
	doc.RevocationEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
	doc.RevocationEndpointAuthSigningAlgValuesSupported = s.assertionAlgorithms()
	doc.AuthorizationResponseIssParameterSupported = true
	doc.PushedAuthorizationRequestEndpoint = s.issuer + PathPAR
	doc.RequirePushedAuthorizationRequests = s.oidc.requirePAR
	// request_uri is accepted, but only the URNs PAR returns: Signet
	// fetches no request object from a URL.
	doc.RequestURIParameterSupported = true
	doc.RequestParameterSupported = true
	for _, a := range s.requestObjects.Algorithms() {
		doc.RequestObjectSigningAlgValuesSupported = append(doc.RequestObjectSigningAlgValuesSupported, string(a))
	}
	doc.ACRValuesSupported = s.acrValuesSupported()
	doc.ClaimsParameterSupported = true
}
