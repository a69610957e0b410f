package registration

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/signet-id/signet/branding"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
)

// The RFC 7591 section 3.2.2 error codes, and RFC 6750's for a missing or
// wrong initial access or registration access token.
const (
	CodeInvalidRedirectURI          = "invalid_redirect_uri"
	CodeInvalidClientMetadata       = "invalid_client_metadata"
	CodeInvalidSoftwareStatement    = "invalid_software_statement"
	CodeUnapprovedSoftwareStatement = "unapproved_software_statement"
	CodeInvalidToken                = "invalid_token"
)

// Error is a refused registration: its RFC 7591 code and a description
// naming the field and the fix.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func metadataError(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidClientMetadata, Description: fmt.Sprintf(format, args...)}
}

func redirectError(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidRedirectURI, Description: fmt.Sprintf(format, args...)}
}

// Grant types and authentication methods Signet registers.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"

	AuthNone              = "none"
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = privatekeyjwt.Method
)

// KnownGrantTypes are the grant types a policy may allow.
var KnownGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}

var authMethods = []string{AuthClientSecretBasic, AuthClientSecretPost, AuthNone, AuthPrivateKeyJWT}

// Bounds of one registration: they bound the stored row.
const (
	MaxRedirectURIs = 16
	MaxURILen       = 2000
	MaxNameLen      = 200
	MaxContacts     = 8
	MaxScopes       = 64
	MaxJWKSLen      = 16 << 10
)

// Metadata is the client metadata of RFC 7591 section 2 that Signet
// understands; other members are ignored, as section 2 says.
type Metadata struct {
	RedirectURIs            []string        `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string        `json:"grant_types,omitempty"`
	ResponseTypes           []string        `json:"response_types,omitempty"`
	ClientName              string          `json:"client_name,omitempty"`
	ClientURI               string          `json:"client_uri,omitempty"`
	LogoURI                 string          `json:"logo_uri,omitempty"`
	Scope                   string          `json:"scope,omitempty"`
	Contacts                []string        `json:"contacts,omitempty"`
	TOSURI                  string          `json:"tos_uri,omitempty"`
	PolicyURI               string          `json:"policy_uri,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	SoftwareID              string          `json:"software_id,omitempty"`
	SoftwareVersion         string          `json:"software_version,omitempty"`
	SoftwareStatement       string          `json:"software_statement,omitempty"`
}

// InitialAccessToken values of the policy.
const (
	InitialAccessTokenRequired = "required"
	InitialAccessTokenOptional = "optional"
)

// Policy is config dynamicRegistration.
type Policy struct {
	// InitialAccessToken is "required" (every registration presents an
	// admin token with signet.admin.write) or "optional" (open
	// registration; a token, when sent, must still be valid).
	InitialAccessToken string
	// AllowedGrantTypes and AllowedScopes bound what a registered client
	// may have; a request without scope gets every allowed scope.
	AllowedGrantTypes []string
	AllowedScopes     []string
	// DefaultLifetime is how long a registration lasts: its secret's
	// client_secret_expires_at, after which the client is refused and
	// deleted; zero means it does not expire.
	DefaultLifetime time.Duration
	// RequireConsent (requireConsent) gives every registered client that
	// signs people in (authorization_code) the consent page: the client's
	// requireConsent, which no registration can turn off.
	RequireConsent bool
}

// Validate checks the policy itself (config errors name the key).
func (p Policy) Validate() error {
	switch p.InitialAccessToken {
	case InitialAccessTokenRequired, InitialAccessTokenOptional:
	default:
		return fmt.Errorf("dynamicRegistration.initialAccessToken: %q is neither required nor optional", p.InitialAccessToken)
	}
	if len(p.AllowedGrantTypes) == 0 {
		return errors.New("dynamicRegistration.allowedGrantTypes: list the grant types a registered client may use, e.g. [authorization_code, refresh_token]")
	}
	for _, g := range p.AllowedGrantTypes {
		if !slices.Contains(KnownGrantTypes, g) {
			return fmt.Errorf("dynamicRegistration.allowedGrantTypes: %q is not one of %s", g, strings.Join(KnownGrantTypes, ", "))
		}
	}
	if len(p.AllowedScopes) == 0 {
		return errors.New("dynamicRegistration.allowedScopes: list the scopes a registered client may request, e.g. [openid, profile]")
	}
	if p.DefaultLifetime < 0 {
		return errors.New("dynamicRegistration.defaultLifetime: must not be negative (0: registrations do not expire)")
	}
	return nil
}

// Client is a checked registration: the metadata with defaults applied.
type Client struct {
	Metadata
	Scopes []string
	Public bool // token_endpoint_auth_method none: no secret, PKCE
	// NeedsSecret: Signet generates a client secret.
	NeedsSecret bool
	// KeySet is the parsed inline jwks of a private_key_jwt client.
	KeySet *privatekeyjwt.StaticKeySet
}

// Check applies the policy to md. The error is an *Error.
func (p Policy) Check(md Metadata) (*Client, error) {
	if md.SoftwareStatement != "" {
		return nil, &Error{Code: CodeUnapprovedSoftwareStatement, Description: "software statements are not accepted by this server: register without software_statement"}
	}
	c := &Client{Metadata: md}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{GrantAuthorizationCode}
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = AuthClientSecretBasic
	}
	if len(c.ResponseTypes) == 0 && slices.Contains(c.GrantTypes, GrantAuthorizationCode) {
		c.ResponseTypes = []string{"code"}
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(p.AllowedGrantTypes, g) {
			return nil, metadataError("grant_types: %q is not allowed here; this server registers clients for %s", clip(g), strings.Join(p.AllowedGrantTypes, ", "))
		}
	}
	code := slices.Contains(c.GrantTypes, GrantAuthorizationCode)
	for _, rt := range c.ResponseTypes {
		if rt != "code" || !code {
			return nil, metadataError("response_types: %q does not fit; only \"code\" is served, with the grant type authorization_code", clip(rt))
		}
	}
	if slices.Contains(c.GrantTypes, GrantRefreshToken) && !code {
		return nil, metadataError("grant_types: refresh_token needs authorization_code")
	}
	if !slices.Contains(authMethods, c.TokenEndpointAuthMethod) {
		return nil, metadataError("token_endpoint_auth_method: %q is not supported; use one of %s", clip(c.TokenEndpointAuthMethod), strings.Join(authMethods, ", "))
	}
	c.Public = c.TokenEndpointAuthMethod == AuthNone
	if c.Public && slices.Contains(c.GrantTypes, GrantClientCredentials) {
		return nil, metadataError("token_endpoint_auth_method: none cannot use client_credentials; a machine client authenticates")
	}
	if err := checkKeys(c); err != nil {
		return nil, err
	}
	c.NeedsSecret = c.TokenEndpointAuthMethod == AuthClientSecretBasic || c.TokenEndpointAuthMethod == AuthClientSecretPost
	if err := p.checkScope(c); err != nil {
		return nil, err
	}
	if code && len(c.RedirectURIs) == 0 {
		return nil, redirectError("redirect_uris: authorization_code needs at least one redirect URI")
	}
	if len(c.RedirectURIs) > MaxRedirectURIs || len(c.PostLogoutRedirectURIs) > MaxRedirectURIs {
		return nil, redirectError("redirect_uris: at most %d", MaxRedirectURIs)
	}
	for _, u := range c.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			return nil, redirectError("redirect_uris: %v", err)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			return nil, redirectError("post_logout_redirect_uris: %v", err)
		}
	}
	if len(c.ClientName) > MaxNameLen || len(c.SoftwareID) > MaxNameLen || len(c.SoftwareVersion) > MaxNameLen {
		return nil, metadataError("client_name, software_id and software_version: at most %d bytes each", MaxNameLen)
	}
	if len(c.Contacts) > MaxContacts {
		return nil, metadataError("contacts: at most %d", MaxContacts)
	}
	for _, ct := range c.Contacts {
		if len(ct) > MaxNameLen {
			return nil, metadataError("contacts: at most %d bytes each", MaxNameLen)
		}
	}
	for name, u := range map[string]string{"client_uri": c.ClientURI, "logo_uri": c.LogoURI, "tos_uri": c.TOSURI, "policy_uri": c.PolicyURI} {
		if u != "" {
			if err := checkHTTPS(u); err != nil {
				return nil, metadataError("%s: %v", name, err)
			}
		}
	}
	// client_name, logo_uri and client_uri are shown on the login and
	// consent pages (the client's displayName, logoUri and clientUri):
	// they also follow the rules of those keys.
	for _, b := range []struct {
		name, v string
		check   func(string) error
	}{
		{"client_name", c.ClientName, branding.CheckName},
		{"logo_uri", c.LogoURI, branding.CheckLogoURI},
		{"client_uri", c.ClientURI, branding.CheckClientURI},
	} {
		if b.v == "" {
			continue
		}
		if err := b.check(b.v); err != nil {
			return nil, metadataError("%s: %v (it is shown on the login and consent pages)", b.name, err)
		}
	}
	return c, nil
}

// checkKeys checks jwks / jwks_uri against the authentication method.
func checkKeys(c *Client) *Error {
	hasJWKS := len(c.JWKS) > 0 && string(c.JWKS) != "null"
	if hasJWKS && c.JWKSURI != "" {
		return metadataError("jwks and jwks_uri: send one of them, not both (RFC 7591 section 2)")
	}
	if c.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
		if hasJWKS || c.JWKSURI != "" {
			return metadataError("jwks, jwks_uri: only a private_key_jwt client has keys here; set token_endpoint_auth_method private_key_jwt or leave them out")
		}
		return nil
	}
	switch {
	case c.JWKSURI != "":
		if err := checkHTTPS(c.JWKSURI); err != nil {
			return metadataError("jwks_uri: %v", err)
		}
	case hasJWKS:
		if len(c.JWKS) > MaxJWKSLen {
			return metadataError("jwks: at most %d bytes; publish larger sets at a jwks_uri", MaxJWKSLen)
		}
		ks, err := privatekeyjwt.ParseKeySet(c.JWKS, nil)
		if err != nil {
			return metadataError("jwks: %v", err)
		}
		c.KeySet = ks
	default:
		return metadataError("private_key_jwt needs jwks or jwks_uri: send the client's public keys")
	}
	return nil
}

func (p Policy) checkScope(c *Client) *Error {
	if c.Scope == "" {
		c.Scopes = slices.Clone(p.AllowedScopes)
		c.Scope = strings.Join(c.Scopes, " ")
		return nil
	}
	for _, s := range strings.Fields(c.Scope) {
		if !slices.Contains(p.AllowedScopes, s) {
			return metadataError("scope: %q is not allowed here; a registered client may have %s", clip(s), strings.Join(p.AllowedScopes, " "))
		}
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	if len(c.Scopes) > MaxScopes {
		return metadataError("scope: at most %d scopes", MaxScopes)
	}
	c.Scope = strings.Join(c.Scopes, " ")
	return nil
}

// CheckRedirectURI accepts an absolute https URL, or an http URL on a
// loopback host (127.0.0.1, [::1] or localhost, any port: RFC 8252
// section 7.3); no fragment (RFC 6749 section 3.1.2), no user
// information, no wildcard.
func CheckRedirectURI(raw string) error {
	if len(raw) > MaxURILen {
		return fmt.Errorf("a URI of at most %d bytes", MaxURILen)
	}
	if strings.Contains(raw, "*") {
		return fmt.Errorf("%q has a wildcard; register every redirect URI exactly", clip(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", clip(raw))
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q has a fragment; a redirect URI must not (RFC 6749 section 3.1.2)", clip(raw))
	}
	if u.User != nil {
		return fmt.Errorf("%q has user information; remove it", clip(raw))
	}
	switch {
	case u.Scheme == "https" && u.Hostname() != "":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q uses http on a host that is not loopback; use https, or http://127.0.0.1, http://[::1] or http://localhost for a native application", clip(raw))
	}
	return fmt.Errorf("%q is not an absolute https URL (or http on 127.0.0.1, [::1] or localhost)", clip(raw))
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func checkHTTPS(raw string) error {
	if len(raw) > MaxURILen {
		return fmt.Errorf("a URI of at most %d bytes", MaxURILen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return fmt.Errorf("%q is not an absolute https URL", clip(raw))
	}
	return nil
}

// clip shortens what a client sent before it is quoted in an error.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}
