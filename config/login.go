package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
)

// Grant types and identity scopes of the login flows.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"

	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	// DefaultIdentityTokenLifetime is clients[].identityTokenLifetime's
	// default (the reference's 300 seconds; server.DefaultIDTokenLifetime).
	DefaultIdentityTokenLifetime = 5 * time.Minute
	// DefaultRefreshTokenReuseInterval is clients[].refreshTokenReuseInterval's
	// default: parallel requests of one page that refresh together
	// (oauth2-proxy) arrive within it, with room for a slow network.
	DefaultRefreshTokenReuseInterval = 30 * time.Second
	// MaxRefreshTokenReuseInterval bounds it: reuse detection is delayed
	// by that much.
	MaxRefreshTokenReuseInterval = 5 * time.Minute
)

// IsIdentityScope reports whether s is an OpenID Connect scope Signet
// serves (openid, profile, email, offline_access): a client may list it in
// allowedScopes besides the scopes of API resources.
func IsIdentityScope(s string) bool {
	switch s {
	case "openid", "profile", "email", "offline_access":
		return true
	}
	return false
}

// Claims a user may carry, by the scope that releases them (OpenID
// Connect Core 5.4). Other claims would never be released, so they are
// configuration errors.
func profileClaims() []string {
	return []string{"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"}
}

func emailClaims() []string { return []string{"email", "email_verified"} }

// User is a person who signs in on the login page.
type User struct {
	// Subject is the stable identifier put in tokens as sub.
	Subject string
	// Username is what the person types on the login page.
	Username string
	// Password is the argon2id hash of the password.
	Password *clientauth.Secret
	// Claims are released by scope: profile and email claims.
	Claims map[string]any
	// Digest identifies the entry as written (after ${} expansion): a
	// reload tells a changed user by it.
	Digest Digest
}

type userDoc struct {
	Subject      string         `yaml:"subject"`
	Username     string         `yaml:"username"`
	PasswordHash string         `yaml:"passwordHash"`
	Claims       map[string]any `yaml:"claims"`
}

func supportedGrantType(g string) bool {
	return g == GrantClientCredentials || g == GrantAuthorizationCode || g == GrantRefreshToken
}

// resolveClientLogin checks and fills the login-flow fields of a client.
func (p *parser) resolveClientLogin(path string, cd *clientDoc, cl *Client, c *Config) error {
	code := slices.Contains(cl.AllowedGrantTypes, GrantAuthorizationCode)
	refresh := slices.Contains(cl.AllowedGrantTypes, GrantRefreshToken)
	switch {
	case cl.Public && slices.Contains(cl.AllowedGrantTypes, GrantClientCredentials):
		return p.at(path+".allowedGrantTypes", "(%s) a public client cannot use client_credentials: it has no secret to authenticate with", cl.ClientID)
	case refresh && !code:
		return p.at(path+".allowedGrantTypes", "(%s) refresh_token needs authorization_code: refresh tokens are issued by the login flow", cl.ClientID)
	case cl.Public && !code:
		return p.at(path+".allowedGrantTypes", "(%s) a public client must allow authorization_code", cl.ClientID)
	}
	for j, s := range cl.AllowedScopes {
		if IsIdentityScope(s) && !code {
			return p.at(fmt.Sprintf("%s.allowedScopes[%d]", path, j), "%q is an OpenID Connect scope; it needs authorization_code in allowedGrantTypes", s)
		}
	}
	offline := slices.Contains(cl.AllowedScopes, "offline_access")
	if refresh != offline {
		return p.at(path, "(%s) refresh tokens need both refresh_token in allowedGrantTypes and offline_access in allowedScopes (the client asks for offline_access); list both or neither", cl.ClientID)
	}

	var err error
	if cl.RedirectURIs, err = p.redirectURIs(path+".redirectUris", cd.RedirectURIs, c); err != nil {
		return err
	}
	if cl.PostLogoutRedirectURIs, err = p.redirectURIs(path+".postLogoutRedirectUris", cd.PostLogoutRedirectURIs, c); err != nil {
		return err
	}
	if cl.AllowedCORSOrigins, err = p.corsOrigins(path+".allowedCorsOrigins", cd.AllowedCorsOrigins, c); err != nil {
		return err
	}
	if code && len(cl.RedirectURIs) == 0 {
		return p.at(path, "(%s) allows authorization_code but has no redirectUris; list the exact URLs the client receives codes at, e.g. redirectUris: [https://app.example.com/callback]", cl.ClientID)
	}
	if !code && (len(cl.RedirectURIs) > 0 || len(cl.PostLogoutRedirectURIs) > 0) {
		return p.at(path, "(%s) has redirectUris or postLogoutRedirectUris but does not allow authorization_code; add it to allowedGrantTypes or remove them", cl.ClientID)
	}

	cl.IdentityTokenLifetime = DefaultIdentityTokenLifetime
	if cd.IdentityTokenLifetime != nil {
		switch d := time.Duration(*cd.IdentityTokenLifetime); {
		case !code:
			return p.at(path+".identityTokenLifetime", "(%s) ID tokens are issued by the login flow; add authorization_code to allowedGrantTypes or remove identityTokenLifetime", cl.ClientID)
		case d < time.Second:
			return p.at(path+".identityTokenLifetime", "must be at least 1s, e.g. 5m")
		default:
			cl.IdentityTokenLifetime = d
		}
	}
	cl.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	if cd.RefreshTokenLifetime != nil {
		if *cd.RefreshTokenLifetime <= 0 {
			return p.at(path+".refreshTokenLifetime", "must be a positive duration like 30d or 12h")
		}
		cl.RefreshTokenLifetime = time.Duration(*cd.RefreshTokenLifetime)
	}
	if slices.Contains(cl.AllowedGrantTypes, GrantRefreshToken) {
		cl.RefreshTokenReuseInterval = DefaultRefreshTokenReuseInterval
	}
	if cd.RefreshTokenReuseInterval != nil {
		switch d := time.Duration(*cd.RefreshTokenReuseInterval); {
		case !slices.Contains(cl.AllowedGrantTypes, GrantRefreshToken):
			return p.at(path+".refreshTokenReuseInterval", "(%s) applies to refresh tokens; add refresh_token to allowedGrantTypes or remove refreshTokenReuseInterval", cl.ClientID)
		case d < 0 || d > MaxRefreshTokenReuseInterval:
			return p.at(path+".refreshTokenReuseInterval", "must be from 0s (every reuse revokes the family) to %s, e.g. 30s", MaxRefreshTokenReuseInterval)
		default:
			cl.RefreshTokenReuseInterval = d
		}
	}
	if signable := signableAlgorithms(c); len(cl.AllowedIdentityTokenSigningAlgorithms) > 0 &&
		!slices.ContainsFunc(cl.AllowedIdentityTokenSigningAlgorithms, func(a key.Algorithm) bool { return slices.Contains(signable, a) }) {
		return p.at(path+".allowedIdentityTokenSigningAlgorithms", "allows %s, but Signet signs only with %s; add one of them to keyManagement.signingAlgorithms", joinAlgs(cl.AllowedIdentityTokenSigningAlgorithms), joinAlgs(signable))
	}
	return nil
}

// redirectURIs checks registered redirect URIs: absolute, no fragment,
// unique. Plain http on a host other than loopback is warned about.
func (p *parser) redirectURIs(path string, uris []string, c *Config) ([]string, error) {
	var out []string
	for i, s := range uris {
		at := fmt.Sprintf("%s[%d]", path, i)
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == ""):
			return nil, p.at(at, "%q is not an absolute URI, e.g. https://app.example.com/callback or http://127.0.0.1:3000/callback", s)
		case u.Fragment != "" || strings.Contains(s, "#"):
			return nil, p.at(at, "%q has a fragment; redirect URIs must not (RFC 6749 3.1.2)", s)
		case slices.Contains(out, s):
			return nil, p.at(at, "lists %q twice", s)
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s uses plain http on a non-loopback host: authorization codes travel unencrypted; use https", at, s))
		}
		out = append(out, s)
	}
	return out, nil
}

// corsOrigins checks clients[].allowedCorsOrigins: each must be an origin
// exactly as a browser sends it in the Origin header (RFC 6454): a lower
// case http or https scheme and host, a port only when it is not the
// scheme's default, no path (not even "/"), query or fragment. Anything
// else would never match, and silently so.
func (p *parser) corsOrigins(path string, origins []string, c *Config) ([]string, error) {
	var out []string
	for i, s := range origins {
		at := fmt.Sprintf("%s[%d]", path, i)
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return nil, p.at(at, "%q is not an origin; write scheme://host[:port], e.g. https://app.example.com or http://localhost:3000", s)
		}
		want := u.Scheme + "://" + strings.ToLower(u.Host)
		if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
			want = strings.TrimSuffix(want, ":"+port)
		}
		if s != want {
			return nil, p.at(at, "%q is not an origin as browsers send it; write %q (lower case, no path or trailing slash, no default port)", s, want)
		}
		if slices.Contains(out, s) {
			return nil, p.at(at, "lists %q twice", s)
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s uses plain http on a non-loopback host: its pages and the tokens they receive travel unencrypted; use https", at, s))
		}
		out = append(out, s)
	}
	return out, nil
}

// resolveResourceSecrets parses apiResources[].secrets (for introspection).
func (p *parser) resolveResourceSecrets(path string, r *apiResourceDoc, res *APIResource, c *Config) error {
	for j, s := range r.Secrets {
		sec, err := clientauth.ParseSecret(s)
		if err != nil {
			return p.at(fmt.Sprintf("%s.secrets[%d]", path, j), "%v", err)
		}
		if sec.Kind() == clientauth.KindPlain {
			c.Warnings = append(c.Warnings, fmt.Sprintf("API resource %s has a plain: secret; store its hash instead (`signet hash-secret`), plain secrets are for development only", r.Name))
		}
		res.Secrets = append(res.Secrets, sec)
	}
	for j, s := range r.Scopes {
		if IsIdentityScope(s) {
			return p.at(fmt.Sprintf("%s.scopes[%d]", path, j), "%q is an OpenID Connect scope served by Signet itself; give the API its own scope names", s)
		}
	}
	return nil
}

// resolveUsers checks users and that the login flows have a grant store.
func (p *parser) resolveUsers(d *fileDoc, c *Config) error {
	subjects := make(map[string]bool)
	names := make(map[string]bool)
	// A client_credentials token's sub is its clientId (RFC 9068 2.2), so
	// a clientId equal to a user's subject would name that person.
	clients := make(map[string]int, len(c.Clients))
	for i, cl := range c.Clients {
		clients[cl.ClientID] = i
	}
	for i, ud := range d.Users {
		path := fmt.Sprintf("users[%d]", i)
		if !validVSChar(ud.Subject) || len(ud.Subject) > 255 {
			return p.at(path, "subject is required: the user's stable identifier (sub), printable ASCII, at most 255 characters, e.g. a UUID")
		}
		if subjects[ud.Subject] {
			return p.at(path, "subject %q is used twice; subjects must be unique", ud.Subject)
		}
		if j, ok := clients[ud.Subject]; ok {
			return p.at(path+".subject", "%q is also the clientId of clients[%d]; a client's tokens carry its clientId as sub, so they would name this user (RFC 9068 section 5): rename the client or give the user another subject", ud.Subject, j)
		}
		subjects[ud.Subject] = true
		if ud.Username == "" || strings.TrimSpace(ud.Username) != ud.Username || len(ud.Username) > 256 {
			return p.at(path, "(%s) username is required: what the person types to sign in, without leading or trailing spaces", ud.Subject)
		}
		if names[ud.Username] {
			return p.at(path, "username %q is used twice; usernames must be unique", ud.Username)
		}
		names[ud.Username] = true
		if ud.PasswordHash == "" {
			return p.at(path, "(%s) passwordHash is required: an argon2id hash from `signet hash-password`", ud.Username)
		}
		sec, err := clientauth.ParseSecret(ud.PasswordHash)
		if err != nil {
			return p.at(path+".passwordHash", "%v", err)
		}
		if sec.Kind() != clientauth.KindArgon2id {
			return p.at(path+".passwordHash", "(%s) must be an argon2id PHC string ($argon2id$v=19$...) from `signet hash-password`; a person's password needs a slow hash", ud.Username)
		}
		for name, v := range ud.Claims {
			if err := checkClaim(name, v); err != nil {
				return p.at(path+".claims."+name, "%v", err)
			}
		}
		c.Users = append(c.Users, User{Subject: ud.Subject, Username: ud.Username, Password: sec, Claims: ud.Claims, Digest: digest(ud)})
	}

	var loginClients []string
	for _, cl := range c.Clients {
		if slices.Contains(cl.AllowedGrantTypes, GrantAuthorizationCode) {
			loginClients = append(loginClients, cl.ClientID)
		}
	}
	if c.Storage.Driver == DriverFile && (len(c.Users) > 0 || len(loginClients) > 0 || len(c.Connectors) > 0) {
		return p.at("storage.driver", "the file store keeps keys only, but users or authorization_code clients are configured: their codes, refresh tokens and sessions need a grant store; use sqlite, postgres or memory")
	}
	if len(loginClients) > 0 && len(c.Users) == 0 && len(c.Connectors) == 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("clients %s allow authorization_code but no users are configured, so nobody can sign in; add users (signet hash-password hashes a password)", strings.Join(loginClients, ", ")))
	}
	return nil
}

// checkClaim checks one configured user claim.
func checkClaim(name string, v any) error {
	switch {
	case name == "email_verified":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be true or false")
		}
	case name == "updated_at":
		if _, ok := v.(int); !ok {
			return fmt.Errorf("must be a number of seconds since 1970 (Unix time)")
		}
	case slices.Contains(profileClaims(), name), slices.Contains(emailClaims(), name):
		if s, ok := v.(string); !ok || s == "" {
			return fmt.Errorf("must be a non-empty string")
		}
	default:
		return fmt.Errorf("%q would never be sent: only the profile claims (%s) and the email claims (%s) are released",
			name, strings.Join(profileClaims(), ", "), strings.Join(emailClaims(), ", "))
	}
	return nil
}
