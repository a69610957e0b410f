package config

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
)

// Driver names a key store backend.
type Driver string

// Store drivers.
const (
	DriverSQLite   Driver = "sqlite"
	DriverPostgres Driver = "postgres"
	DriverMemory   Driver = "memory"
	DriverFile     Driver = "file"
)

// Defaults that key.DefaultOptions does not cover.
const (
	DefaultListen              = "127.0.0.1:8080"
	DefaultSQLiteDSN           = "./signet-data/signet.db"
	DefaultJWKSMaxAge          = key.DefaultJWKSMaxAge
	DefaultAccessTokenLifetime = time.Hour
	GrantClientCredentials     = "client_credentials"
)

// SecretRecipe is the shell command Signet recommends for a random
// secret: 32 random bytes in base64url, which needs no escaping in URLs,
// forms, HTTP Basic credentials or YAML. (Plain base64's + and / break
// clients that do not form-encode Basic credentials.)
const SecretRecipe = "`openssl rand -base64 32 | tr '+/' '-_' | tr -d =`"

// Config is a loaded and validated configuration.
type Config struct {
	// Source names where the configuration came from (a file path), for
	// messages.
	Source string
	// Issuer is the issuer identifier (iss), an absolute http(s) URL.
	Issuer string
	// Listen is the TCP address the server listens on.
	Listen string
	// AdminListen (adminListen) is the TCP address of the admin listener:
	// /metrics, the detailed /readyz and /healthz. Empty: none, and no
	// /metrics anywhere.
	AdminListen string
	// TrustedProxies (trustedProxies) are the addresses of reverse
	// proxies whose X-Forwarded-For Signet believes, to find a client's
	// address (login rate limits, logs).
	TrustedProxies []netip.Prefix
	Storage        Storage
	// KeyManagement holds the key management options, defaults applied
	// and validated.
	KeyManagement key.Options
	// JWKSMaxAge is the JWKS response's Cache-Control max-age.
	JWKSMaxAge time.Duration
	// RelyingPartyCache is the longest time a relying party caches the
	// JWKS (keyManagement.relyingPartyCache), for the timing check and
	// the migration advisor.
	RelyingPartyCache time.Duration
	// ClockSkew is the clock skew relying parties allow when validating
	// token lifetimes (keyManagement.clockSkew).
	ClockSkew  time.Duration
	Protection Protection
	// KeyBackend (keyManagement.keyBackend) is where new managed keys are
	// generated: software (default), pkcs11 or awskms.
	KeyBackend keybackend.Config
	// PreviousKeyBackend (keyManagement.keyBackend.previous) opens the keys
	// an earlier keyBackend made, until they are deleted; nil if none.
	PreviousKeyBackend *keybackend.Config
	// SigningCredential is the static key that signs, or nil.
	SigningCredential *StaticKey
	// ValidationKeys are static keys published for validation only.
	ValidationKeys []StaticKey
	APIResources   []APIResource
	Clients        []Client
	// Users sign in on the login page (authorization_code clients).
	Users []User
	// Connectors (connectors) are the upstream identity sources people
	// sign in through besides Users: OpenID Connect providers and LDAP
	// directories.
	Connectors []Connector
	// Limits are the abuse budgets (limits), defaults applied.
	Limits Limits
	// DPoP is how DPoP proofs are checked (dpop), defaults applied.
	DPoP DPoP
	// Passwords is the password policy of the store's users (passwords),
	// defaults applied.
	Passwords Passwords
	// MFA is who must use a second factor (mfa).
	MFA MFA
	// RequirePushedAuthorizationRequests (requirePushedAuthorizationRequests)
	// makes every client push its authorization requests (PAR, RFC 9126);
	// discovery publishes it as require_pushed_authorization_requests.
	// Client.RequirePushedAuthorizationRequests already includes it.
	RequirePushedAuthorizationRequests bool
	// UI (ui) configures the pages; Session (session) the login
	// sessions, defaults applied (ui.go).
	UI      UI
	Session Session
	// AdminAPI (adminAPI) serves the admin API; DynamicRegistration
	// (dynamicRegistration) serves RFC 7591/7592 registration.
	AdminAPI            AdminAPI
	DynamicRegistration DynamicRegistration
	// Warnings are problems that do not stop the server (plain-text client
	// secrets, readable key files); the caller logs them at start-up.
	Warnings []string
}

// Storage selects the key store.
type Storage struct {
	Driver Driver
	// DSN is the SQLite database path or the PostgreSQL connection string;
	// empty for memory and file (the file store uses KeyPath).
	DSN string
	// KeyPath is the file store's directory (YAML keyManagement.keyPath),
	// resolved against the configuration file's directory.
	KeyPath string
	// DurableReplayRecords (storage.durableReplayRecords) makes one-time
	// identifiers (the jti of client assertions, DPoP proofs and request
	// objects) wait for the disk flush like every other write. By
	// default they do not: see docs/security.md.
	DurableReplayRecords bool
}

// Protection configures encryption of private keys at rest.
type Protection struct {
	Enabled bool
	// Secrets are the configured secrets, the first seals. Empty when
	// protection is off, or when a generated secret is used (SecretFile).
	Secrets [][]byte
	// SecretFile is where a generated secret is kept when protection is on
	// and no secret is configured (sqlite and file stores): beside the
	// data, created once with mode 0600 by [Config.ProtectionSecrets].
	SecretFile string
}

// StaticKey is an operator-supplied key from a file.
type StaticKey struct {
	// File is the resolved path the key was read from.
	File string
	// KID is the configured kid, or "" for the RFC 7638 thumbprint.
	KID       string
	Algorithm key.Algorithm
	// Signer is the private key of a signing credential; nil for a
	// validation key.
	Signer       crypto.Signer
	Public       crypto.PublicKey
	Certificates []*x509.Certificate
}

// APIResource is a protected API: its name is the access token audience
// and the value of the RFC 8707 resource parameter.
type APIResource struct {
	Name   string
	Scopes []string
	// AllowedAccessTokenSigningAlgorithms restricts the algorithms of
	// tokens for this resource; empty means no restriction.
	AllowedAccessTokenSigningAlgorithms []key.Algorithm
	// Secrets authenticate the resource at the introspection endpoint;
	// empty means it cannot introspect, unless it has keys.
	Secrets []*clientauth.Secret
	// JWKS (jwks) are the public keys of a resource that authenticates
	// at the introspection endpoint with private_key_jwt, given inline;
	// JWKSURI (jwksUri) is where it publishes them. With either, it has
	// no Secrets.
	JWKS    *privatekeyjwt.StaticKeySet
	JWKSURI string
	// Digest identifies the entry as written (after ${} expansion): a
	// reload tells a changed resource by it.
	Digest Digest
}

// Digest is the SHA-256 of a configuration entry as written (after ${}
// expansion), to tell on a reload whether it changed. It reveals nothing
// of the secrets in the entry beyond equality.
type Digest [sha256.Size]byte

// digest returns the Digest of a decoded entry.
func digest(doc any) Digest {
	b, err := json.Marshal(doc)
	if err != nil {
		// Not expected of documents decoded from YAML; the printed form
		// still tells a change.
		b = fmt.Appendf(nil, "%+v", doc)
	}
	return sha256.Sum256(b)
}

// Client is an OAuth 2.0 client.
type Client struct {
	ClientID                              string
	Secrets                               []*clientauth.Secret
	AllowedGrantTypes                     []string
	AllowedScopes                         []string
	AccessTokenLifetime                   time.Duration
	AllowedIdentityTokenSigningAlgorithms []key.Algorithm
	// Public is true for tokenEndpointAuthMethod: none (no secret; PKCE
	// required).
	Public bool
	// TokenEndpointAuthMethod (tokenEndpointAuthMethod) is how the client
	// authenticates: "" (a secret, sent either way, as before the option
	// was spelled out), AuthMethodSecretBasic or AuthMethodSecretPost (a
	// secret, also sent either way), AuthMethodPrivateKeyJWT or
	// AuthMethodNone.
	TokenEndpointAuthMethod string
	// JWKS (jwks) are the public keys of a private_key_jwt client given
	// inline, validated; nil otherwise.
	JWKS *privatekeyjwt.StaticKeySet
	// JWKSURI (jwksUri) is where a private_key_jwt client publishes its
	// public keys (https, or http on loopback); "" otherwise.
	JWKSURI string
	// RedirectURIs and PostLogoutRedirectURIs are matched exactly.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// RefreshTokenLifetime is the absolute lifetime of a refresh token
	// family, from sign-in.
	RefreshTokenLifetime time.Duration
	// RefreshTokenReuseInterval (refreshTokenReuseInterval) is how long
	// after a rotation the rotated refresh token is answered with its
	// successor rather than treated as reused; with refresh_token
	// DefaultRefreshTokenReuseInterval unless set, 0 turns it off.
	RefreshTokenReuseInterval time.Duration
	// IdentityTokenLifetime (identityTokenLifetime) is the lifetime of the
	// client's ID tokens; DefaultIdentityTokenLifetime unless set.
	IdentityTokenLifetime time.Duration
	// Digest identifies the entry as written (after ${} expansion): a
	// reload tells a changed client by it.
	Digest Digest
	// AllowedCORSOrigins (allowedCorsOrigins) are the origins whose pages
	// may call discovery, the JWKS, token, userinfo and revocation from
	// JavaScript: scheme://host[:port], as browsers send them.
	AllowedCORSOrigins []string
	// RequirePushedAuthorizationRequests is true when the client's
	// authorization requests must be pushed (PAR, RFC 9126) and a plain
	// one is refused: clients[].requirePushedAuthorizationRequests, the
	// top-level requirePushedAuthorizationRequests, or securityProfile:
	// fapi2.
	RequirePushedAuthorizationRequests bool
	// RequireDPoP is true when the client's tokens must be DPoP-bound
	// (RFC 9449) and Bearer use is refused: clients[].requireDPoP or
	// securityProfile: fapi2.
	RequireDPoP bool
	// RequireMFA (clients[].requireMfa): the client's users sign in with
	// a second factor, enrolling at sign-in if they have none.
	RequireMFA bool
	// SecurityProfile (securityProfile) is the profile the client follows:
	// "" (none) or ProfileFAPI2. A fapi2 client's settings were checked
	// against the profile; its AllowedIdentityTokenSigningAlgorithms lists
	// only FAPI 2.0 algorithms (those Signet signs with, when not set).
	SecurityProfile SecurityProfile
	// RequireConsent (requireConsent) shows the consent page before the
	// client gets a code; AllowRememberConsent (allowRememberConsent) lets
	// the user remember the decision (ui.go).
	RequireConsent       bool
	AllowRememberConsent bool
	// DisplayName (displayName), LogoURI (logoUri: https or a data: URI of
	// an image) and ClientURI (clientUri) are shown on the login and
	// consent pages.
	DisplayName string
	LogoURI     string
	ClientURI   string
	// AllowedConnectors (allowedConnectors) limits the ways people sign
	// in to this client: connector ids, and ConnectorLocal for Signet's
	// own users (the username and password form). Empty: all of them.
	AllowedConnectors []string
}

// ParseOptions controls [Parse].
type ParseOptions struct {
	// Source names the input in errors ("signet.yaml").
	Source string
	// Dir is the base of relative paths; "" means the current directory.
	Dir string
	// LookupEnv resolves ${NAME}; nil means os.LookupEnv.
	LookupEnv LookupEnv
}

// Load reads and parses the configuration file at path. Relative paths in
// it are resolved against its directory.
func Load(path string, lookup LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config: %s does not exist; pass --config with the path of your configuration file (see signet.example.yaml), or run `signet serve --dev`", path)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, ParseOptions{Source: path, Dir: filepath.Dir(path), LookupEnv: lookup})
}

// Parse parses and validates a configuration document.
func Parse(data []byte, o ParseOptions) (*Config, error) {
	if o.Source == "" {
		o.Source = "config"
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	p := &parser{src: o.Source, dir: o.Dir, lines: lineIndex{byLine: map[int]string{}, byPath: map[string]int{}}}
	doc, err := p.decode(data, o.LookupEnv)
	if err != nil {
		return nil, err
	}
	return p.resolve(doc)
}

type parser struct {
	src   string
	dir   string
	lines lineIndex
}

// errorf returns "src:line: msg" (or "src: msg" when line is 0).
func (p *parser) errorf(line int, format string, args ...any) error {
	if line > 0 {
		return fmt.Errorf("%s:%d: "+format, append([]any{p.src, line}, args...)...)
	}
	return fmt.Errorf("%s: "+format, append([]any{p.src}, args...)...)
}

// lineErr turns an error starting with "line N: " into "src:N: ...".
func (p *parser) lineErr(err error) error {
	var line int
	msg := err.Error()
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		return p.errorf(line, "%s", strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:]))
	}
	return p.errorf(0, "%s", strings.TrimPrefix(msg, "yaml: "))
}

func (p *parser) decode(data []byte, lookup LookupEnv) (*fileDoc, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, p.errorf(0, "the file is empty; start from signet.example.yaml")
		}
		return nil, p.lineErr(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errorf(extra.Line, "more than one YAML document; keep one configuration per file")
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, p.errorf(root.Line, "the configuration must be a mapping (key: value), starting with issuer:")
	}
	if err := expandEnv(&root, lookup, false); err != nil {
		return nil, p.lineErr(err)
	}
	if err := checkKeys(&root, reflect.TypeFor[fileDoc](), "", &p.lines); err != nil {
		return nil, p.lineErr(err)
	}
	var doc fileDoc
	if err := root.Decode(&doc); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return nil, p.lineErr(errors.New(friendlyTypeError(te.Errors[0], p.lines.byLine)))
		}
		return nil, p.lineErr(err)
	}
	return &doc, nil
}

// The YAML document, as written. Pointers tell "absent" from "zero".
type fileDoc struct {
	Issuer            string            `yaml:"issuer"`
	Listen            string            `yaml:"listen"`
	AdminListen       string            `yaml:"adminListen"`
	TrustedProxies    []string          `yaml:"trustedProxies"`
	Storage           *storageDoc       `yaml:"storage"`
	KeyManagement     *keyManagementDoc `yaml:"keyManagement"`
	SigningCredential *keyFileDoc       `yaml:"signingCredential"`
	ValidationKeys    []keyFileDoc      `yaml:"validationKeys"`
	APIResources      []apiResourceDoc  `yaml:"apiResources"`
	Clients           []clientDoc       `yaml:"clients"`
	Users             []userDoc         `yaml:"users"`
	Connectors        []connectorDoc    `yaml:"connectors"`
	Limits            *limitsDoc        `yaml:"limits"`
	DPoP              *dpopDoc          `yaml:"dpop"`
	Passwords         *passwordsDoc     `yaml:"passwords"`
	UI                *uiDoc            `yaml:"ui"`      // ui.go
	Session           *sessionDoc       `yaml:"session"` // ui.go
	MFA               *mfaDoc           `yaml:"mfa"`
	// RequirePushedAuthorizationRequests: every client must use PAR.
	RequirePushedAuthorizationRequests bool                    `yaml:"requirePushedAuthorizationRequests"`
	AdminAPI                           *adminAPIDoc            `yaml:"adminAPI"`
	DynamicRegistration                *dynamicRegistrationDoc `yaml:"dynamicRegistration"`
}

type storageDoc struct {
	Driver               string `yaml:"driver"`
	DSN                  string `yaml:"dsn"`
	DurableReplayRecords *bool  `yaml:"durableReplayRecords"`
}

type keyManagementDoc struct {
	Enabled           *bool          `yaml:"enabled"`
	RotationInterval  *Duration      `yaml:"rotationInterval"`
	PropagationTime   *Duration      `yaml:"propagationTime"`
	RetentionDuration *Duration      `yaml:"retentionDuration"`
	DeleteRetiredKeys *bool          `yaml:"deleteRetiredKeys"`
	KeyCacheDuration  *Duration      `yaml:"keyCacheDuration"`
	RSAKeySize        *int           `yaml:"rsaKeySize"`
	SigningAlgorithms []algorithmDoc `yaml:"signingAlgorithms"`
	KeyPath           *string        `yaml:"keyPath"`
	Protection        *protectionDoc `yaml:"protection"`
	JWKSMaxAge        *Duration      `yaml:"jwksMaxAge"`
	RelyingPartyCache *Duration      `yaml:"relyingPartyCache"`
	ClockSkew         *Duration      `yaml:"clockSkew"`
	KeyBackend        *keyBackendDoc `yaml:"keyBackend"`
}

type algorithmDoc struct {
	Name string `yaml:"name"`
	X509 bool   `yaml:"x509"`
}

// UnmarshalYAML accepts { name: ES256, x509: true } and the short form ES256.
func (d *algorithmDoc) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		d.Name = n.Value
		return nil
	}
	type plain algorithmDoc
	return n.Decode((*plain)(d))
}

type keyBackendDoc struct {
	Type        string         `yaml:"type"`
	Module      string         `yaml:"module"`
	TokenLabel  string         `yaml:"tokenLabel"`
	Pin         string         `yaml:"pin"`
	Region      string         `yaml:"region"`
	Endpoint    string         `yaml:"endpoint"`
	SignTimeout *Duration      `yaml:"signTimeout"`
	Previous    *keyBackendDoc `yaml:"previous"`
}

type protectionDoc struct {
	Enabled *bool    `yaml:"enabled"`
	Secrets []string `yaml:"secrets"`
}

type keyFileDoc struct {
	File      string `yaml:"file"`
	Algorithm string `yaml:"algorithm"`
	KID       string `yaml:"kid"`
}

type apiResourceDoc struct {
	Name                                string   `yaml:"name"`
	Scopes                              []string `yaml:"scopes"`
	AllowedAccessTokenSigningAlgorithms []string `yaml:"allowedAccessTokenSigningAlgorithms"`
	Secrets                             []string `yaml:"secrets"`
	JWKS                                *jwksDoc `yaml:"jwks"`
	JWKSURI                             string   `yaml:"jwksUri"`
}

type clientDoc struct {
	ClientID                              string    `yaml:"clientId"`
	Secrets                               []string  `yaml:"secrets"`
	AllowedGrantTypes                     []string  `yaml:"allowedGrantTypes"`
	AllowedScopes                         []string  `yaml:"allowedScopes"`
	AccessTokenLifetime                   *Duration `yaml:"accessTokenLifetime"`
	AllowedIdentityTokenSigningAlgorithms []string  `yaml:"allowedIdentityTokenSigningAlgorithms"`
	TokenEndpointAuthMethod               string    `yaml:"tokenEndpointAuthMethod"`
	JWKS                                  *jwksDoc  `yaml:"jwks"`
	JWKSURI                               string    `yaml:"jwksUri"`
	RedirectURIs                          []string  `yaml:"redirectUris"`
	PostLogoutRedirectURIs                []string  `yaml:"postLogoutRedirectUris"`
	RefreshTokenLifetime                  *Duration `yaml:"refreshTokenLifetime"`
	IdentityTokenLifetime                 *Duration `yaml:"identityTokenLifetime"`
	RefreshTokenReuseInterval             *Duration `yaml:"refreshTokenReuseInterval"`
	AllowedCorsOrigins                    []string  `yaml:"allowedCorsOrigins"`
	// Pointers: an explicit false contradicts securityProfile: fapi2.
	RequirePushedAuthorizationRequests *bool    `yaml:"requirePushedAuthorizationRequests"`
	RequireDPoP                        *bool    `yaml:"requireDPoP"`
	SecurityProfile                    string   `yaml:"securityProfile"`
	AllowedConnectors                  []string `yaml:"allowedConnectors"`
	// The consent page and branding (ui.go).
	RequireConsent       bool   `yaml:"requireConsent"`
	AllowRememberConsent bool   `yaml:"allowRememberConsent"`
	DisplayName          string `yaml:"displayName"`
	LogoURI              string `yaml:"logoUri"`
	ClientURI            string `yaml:"clientUri"`
	// RequireMFA (requireMfa): the client's users sign in with a second
	// factor (config/mfa.go).
	RequireMFA bool `yaml:"requireMfa"`
}
