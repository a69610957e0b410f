package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/adminauth"
	"github.com/signet-id/signet/registration"
)

// AdminAPI is the adminAPI section: Signet's admin API under /admin/v1/
// (package adminapi), on the admin listener when there is one, else on
// the public listener.
type AdminAPI struct {
	// Enabled (adminAPI.enabled) serves the API and defines the built-in
	// API resource signet-admin with the scopes signet.admin.read and
	// signet.admin.write: a client given them in allowedScopes gets admin
	// tokens with client_credentials.
	Enabled bool
}

// DynamicRegistration is the dynamicRegistration section: OAuth 2.0
// dynamic client registration (RFC 7591) and client configuration
// (RFC 7592) at /connect/register, off by default.
type DynamicRegistration struct {
	Enabled bool
	// Policy holds initialAccessToken, allowedGrantTypes, allowedScopes
	// and defaultLifetime, defaults applied.
	Policy registration.Policy
}

// Defaults of dynamicRegistration.
const (
	// DefaultOpenRegistrationLifetime is defaultLifetime with
	// initialAccessToken: optional, when not set.
	DefaultOpenRegistrationLifetime = 30 * 24 * time.Hour
)

// AdminResource returns the built-in API resource of the admin API.
func AdminResource() APIResource {
	return APIResource{Name: adminauth.Audience, Scopes: []string{adminauth.ScopeRead, adminauth.ScopeWrite, adminauth.ScopeRegister}}
}

type adminAPIDoc struct {
	Enabled *bool `yaml:"enabled"`
}

type dynamicRegistrationDoc struct {
	Enabled            *bool     `yaml:"enabled"`
	InitialAccessToken *string   `yaml:"initialAccessToken"`
	AllowedGrantTypes  []string  `yaml:"allowedGrantTypes"`
	AllowedScopes      []string  `yaml:"allowedScopes"`
	DefaultLifetime    *Duration `yaml:"defaultLifetime"`
	RequireConsent     *bool     `yaml:"requireConsent"`
}

// registryDrivers are the stores that keep clients and resources.
func registryDriver(d Driver) bool {
	return d == DriverSQLite || d == DriverPostgres || d == DriverMemory
}

// resolveAdminAPI reads adminAPI; with it enabled the built-in resource
// signet-admin is added after the file's resources (whose names it
// reserves).
func (p *parser) resolveAdminAPI(d *fileDoc, c *Config) error {
	if d.AdminAPI == nil || d.AdminAPI.Enabled == nil || !*d.AdminAPI.Enabled {
		return nil
	}
	if !registryDriver(c.Storage.Driver) {
		return p.at("adminAPI.enabled", "needs storage.driver sqlite, postgres or memory (the store keeps the clients, resources and audit log), not %s", c.Storage.Driver)
	}
	for i, r := range c.APIResources {
		if r.Name == adminauth.Audience {
			return p.at(fmt.Sprintf("apiResources[%d]", i), "the name %s is the admin API's own resource while adminAPI is enabled; rename this resource", adminauth.Audience)
		}
	}
	c.AdminAPI.Enabled = true
	c.APIResources = append(c.APIResources, AdminResource())
	return nil
}

// resolveDynamicRegistration reads dynamicRegistration, after the
// resources and clients (its scopes must be known ones).
func (p *parser) resolveDynamicRegistration(d *fileDoc, c *Config) error {
	dd := d.DynamicRegistration
	if dd == nil || dd.Enabled == nil || !*dd.Enabled {
		return nil
	}
	if !registryDriver(c.Storage.Driver) {
		return p.at("dynamicRegistration.enabled", "needs storage.driver sqlite, postgres or memory (the store keeps registered clients), not %s", c.Storage.Driver)
	}
	pol := registration.Policy{InitialAccessToken: registration.InitialAccessTokenRequired,
		AllowedGrantTypes: []string{registration.GrantAuthorizationCode, registration.GrantRefreshToken},
		AllowedScopes:     []string{"openid"}}
	if dd.InitialAccessToken != nil {
		pol.InitialAccessToken = *dd.InitialAccessToken
		if pol.InitialAccessToken != registration.InitialAccessTokenRequired && pol.InitialAccessToken != registration.InitialAccessTokenOptional {
			return p.at("dynamicRegistration.initialAccessToken", "%q is neither required (every registration presents an admin token with %s or %s) nor optional (open registration)", pol.InitialAccessToken, adminauth.ScopeRegister, adminauth.ScopeWrite)
		}
	}
	if pol.InitialAccessToken == registration.InitialAccessTokenRequired && !c.AdminAPI.Enabled {
		return p.at("dynamicRegistration.initialAccessToken", "required needs adminAPI.enabled: initial access tokens are Signet's own tokens for %s; enable the admin API, or set initialAccessToken: optional", adminauth.Audience)
	}
	if dd.AllowedGrantTypes != nil {
		pol.AllowedGrantTypes = dd.AllowedGrantTypes
		for i, g := range pol.AllowedGrantTypes {
			if !slices.Contains(registration.KnownGrantTypes, g) {
				return p.at(fmt.Sprintf("dynamicRegistration.allowedGrantTypes[%d]", i), "%q is not one of %s", g, strings.Join(registration.KnownGrantTypes, ", "))
			}
		}
	}
	known, _ := knownScopes(c)
	if dd.AllowedScopes != nil {
		pol.AllowedScopes = dd.AllowedScopes
		for i, s := range pol.AllowedScopes {
			path := fmt.Sprintf("dynamicRegistration.allowedScopes[%d]", i)
			if strings.HasPrefix(s, "signet.admin.") {
				return p.at(path, "%q: a registered client never gets admin scopes; give them to a client in the file or through the admin API", s)
			}
			if !known[s] && !IsIdentityScope(s) {
				return p.at(path, "scope %q belongs to no API resource and is no OpenID Connect scope", s)
			}
		}
	}
	if dd.DefaultLifetime != nil {
		pol.DefaultLifetime = time.Duration(*dd.DefaultLifetime)
	} else if pol.InitialAccessToken == registration.InitialAccessTokenOptional {
		pol.DefaultLifetime = DefaultOpenRegistrationLifetime
	}
	if pol.DefaultLifetime == 0 && pol.InitialAccessToken == registration.InitialAccessTokenOptional {
		return p.at("dynamicRegistration.defaultLifetime", "0s (never expires) needs initialAccessToken: required: open registration must expire, or anyone could fill the store; e.g. defaultLifetime: 720h")
	}
	pol.RequireConsent = dd.RequireConsent != nil && *dd.RequireConsent
	if err := pol.Validate(); err != nil {
		return p.at("dynamicRegistration", "%v", err)
	}
	c.DynamicRegistration = DynamicRegistration{Enabled: true, Policy: pol}
	return nil
}
