package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

func newClientsCmd(e *env) *cobra.Command {
	o := &registryOptions{}
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Manage the clients kept in the store, beside those of the configuration file",
		Long: `clients works on the clients kept in the store named by the configuration
(--config: sqlite or postgres), whether or not a server is running. Running
instances serve a change within about a second, through the store's change
signal; no SIGHUP is needed.

The clients of the configuration file are read-only here: list shows them
(SOURCE file), and the other commands refuse their ids, naming the file as
the place to change them. A stored client is checked by the same rules as
the file's; errors name the field, the flag that sets it and the fix.

Secrets are kept only as hashes. add and rotate-secret print a newly
generated secret once. Every change is written to the store's audit log,
with "cli" as its author. Exit codes: 0 success, 1 failure, 2 usage error.`,
		Example: `  signet clients add --config signet.yaml --id billing --grant-type client_credentials --scope orders.read
  signet clients list --config signet.yaml
  signet clients rotate-secret --config signet.yaml billing --grace 24h`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("clients needs a subcommand: add, list, show, update, delete or rotate-secret (see signet clients --help)")}
		},
	}
	o.flags(cmd, "clients")
	cmd.AddCommand(
		newClientsAddCmd(e, o),
		newClientsListCmd(e, o),
		newClientsShowCmd(e, o),
		newClientsUpdateCmd(e, o),
		newClientsDeleteCmd(e, o),
		newClientsRotateSecretCmd(e, o),
	)
	return cmd
}

// clientFlags are the fields of a client that add and update set.
type clientFlags struct {
	grantTypes, scopes, redirectURIs, postLogoutURIs, corsOrigins, idTokenAlgs []string
	public                                                                     bool
	authMethod, jwksURI, jwksFile, securityProfile, name                       string
	accessLifetime, refreshLifetime, idTokenLifetime, reuseInterval            string
	requireDPoP, requirePAR                                                    bool
	requireConsent, allowRememberConsent, requireMFA                           bool
	displayName, logoURI, clientURI                                            string
	connectors                                                                 []string
	secretHash                                                                 string
	ifRevision                                                                 int64
}

func (f *clientFlags) register(cmd *cobra.Command, update bool) {
	fl := cmd.Flags()
	verb := "the"
	if update {
		verb = "replace the"
	}
	fl.StringSliceVar(&f.grantTypes, "grant-type", nil, verb+" allowed grant types (allowedGrantTypes): client_credentials, authorization_code, refresh_token; repeat or separate with commas")
	fl.StringSliceVar(&f.scopes, "scope", nil, verb+" allowed scopes (allowedScopes): scopes of API resources, and openid, profile, email, offline_access")
	fl.StringSliceVar(&f.redirectURIs, "redirect-uri", nil, verb+" redirect URIs (redirectUris), matched exactly")
	fl.StringSliceVar(&f.postLogoutURIs, "post-logout-redirect-uri", nil, verb+" post-logout redirect URIs (postLogoutRedirectUris)")
	fl.StringSliceVar(&f.corsOrigins, "cors-origin", nil, verb+" origins allowed to call from JavaScript (allowedCorsOrigins)")
	fl.StringSliceVar(&f.idTokenAlgs, "id-token-signing-alg", nil, verb+" algorithms of the client's ID tokens (allowedIdentityTokenSigningAlgorithms)")
	fl.BoolVar(&f.public, "public", false, "a public client (tokenEndpointAuthMethod none): no secret, PKCE required")
	fl.StringVar(&f.authMethod, "token-endpoint-auth-method", "", "client_secret_basic, client_secret_post, private_key_jwt or none (tokenEndpointAuthMethod)")
	fl.StringVar(&f.jwksURI, "jwks-uri", "", "where a private_key_jwt client publishes its public keys (jwksUri)")
	fl.StringVar(&f.jwksFile, "jwks-file", "", "a file holding the JWK Set of a private_key_jwt client's public keys (jwks, stored inline)")
	fl.StringVar(&f.securityProfile, "security-profile", "", "fapi2 to follow the FAPI 2.0 Security Profile (securityProfile)")
	fl.StringVar(&f.name, "name", "", "a name for people (clientName)")
	fl.StringVar(&f.accessLifetime, "access-token-lifetime", "", "lifetime of the client's access tokens (accessTokenLifetime), e.g. 15m")
	fl.StringVar(&f.refreshLifetime, "refresh-token-lifetime", "", "absolute lifetime of a refresh token family (refreshTokenLifetime), e.g. 30d")
	fl.StringVar(&f.idTokenLifetime, "identity-token-lifetime", "", "lifetime of the client's ID tokens (identityTokenLifetime), e.g. 5m")
	fl.StringVar(&f.reuseInterval, "refresh-token-reuse-interval", "", "grace for a rotated refresh token (refreshTokenReuseInterval), e.g. 30s")
	fl.BoolVar(&f.requireDPoP, "require-dpop", false, "refuse the client's tokens without DPoP (requireDPoP)")
	fl.BoolVar(&f.requirePAR, "require-par", false, "refuse the client's plain authorization requests (requirePushedAuthorizationRequests)")
	fl.BoolVar(&f.requireConsent, "require-consent", false, "show the consent page before the client gets a code (requireConsent)")
	fl.BoolVar(&f.allowRememberConsent, "allow-remember-consent", false, "let people remember their consent decision (allowRememberConsent; needs --require-consent)")
	fl.BoolVar(&f.requireMFA, "require-mfa", false, "the client's users sign in with a second factor (requireMfa)")
	fl.StringVar(&f.displayName, "display-name", "", "the name shown on the login and consent pages (displayName)")
	fl.StringVar(&f.logoURI, "logo-uri", "", "the logo shown on the login and consent pages: https or a data: image (logoUri)")
	fl.StringVar(&f.clientURI, "client-uri", "", "the client's home page, linked from the login and consent pages (clientUri)")
	fl.StringSliceVar(&f.connectors, "connector", nil, verb+" ways people sign in (allowedConnectors): connector ids, and local for Signet's own users; none: all")
	fl.StringVar(&f.secretHash, "secret-hash", "", "use this secret hash (from signet hash-secret) instead of generating a secret")
	if update {
		fl.Int64Var(&f.ifRevision, "if-revision", 0, "change the client only if it is still at this revision (see show)")
	}
}

// apply sets the fields whose flags were given on c.
func (f *clientFlags) apply(cmd *cobra.Command, c *clientreg.Client) error {
	changed := cmd.Flags().Changed
	set := func(name string, dst *[]string, v []string) {
		if changed(name) {
			*dst = slices.Clone(v)
		}
	}
	set("grant-type", &c.AllowedGrantTypes, f.grantTypes)
	set("scope", &c.AllowedScopes, f.scopes)
	set("redirect-uri", &c.RedirectURIs, f.redirectURIs)
	set("post-logout-redirect-uri", &c.PostLogoutRedirectURIs, f.postLogoutURIs)
	set("cors-origin", &c.AllowedCORSOrigins, f.corsOrigins)
	set("id-token-signing-alg", &c.AllowedIdentityTokenSigningAlgorithms, f.idTokenAlgs)
	set("connector", &c.AllowedConnectors, f.connectors)
	for _, d := range []struct {
		flag string
		v    string
		dst  *string
	}{
		{"access-token-lifetime", f.accessLifetime, &c.AccessTokenLifetime},
		{"refresh-token-lifetime", f.refreshLifetime, &c.RefreshTokenLifetime},
		{"identity-token-lifetime", f.idTokenLifetime, &c.IdentityTokenLifetime},
		{"refresh-token-reuse-interval", f.reuseInterval, &c.RefreshTokenReuseInterval},
	} {
		if !changed(d.flag) {
			continue
		}
		if d.v != "" {
			if err := durationFlag(d.flag, d.v); err != nil {
				return err
			}
		}
		*d.dst = d.v
	}
	if changed("public") && changed("token-endpoint-auth-method") {
		return usageError{errors.New("--public and --token-endpoint-auth-method exclude each other: --public is --token-endpoint-auth-method none")}
	}
	if changed("public") {
		c.TokenEndpointAuthMethod = ""
		if f.public {
			c.TokenEndpointAuthMethod = config.AuthMethodNone
		}
	}
	if changed("token-endpoint-auth-method") {
		c.TokenEndpointAuthMethod = f.authMethod
	}
	if changed("jwks-uri") {
		c.JWKSURI = f.jwksURI
	}
	if changed("jwks-file") {
		c.JWKS = nil
		if f.jwksFile != "" {
			b, err := os.ReadFile(f.jwksFile)
			if err != nil {
				return fmt.Errorf("--jwks-file: %w", err)
			}
			if !json.Valid(b) {
				return fmt.Errorf("--jwks-file %s is not JSON; give the JWK Set of the client's public keys: {\"keys\": [...]}", f.jwksFile)
			}
			c.JWKS = b
		}
	}
	if changed("security-profile") {
		c.SecurityProfile = f.securityProfile
	}
	if changed("name") {
		c.ClientName = f.name
	}
	for _, t := range []struct {
		flag string
		v    string
		dst  *string
	}{
		{"display-name", f.displayName, &c.DisplayName},
		{"logo-uri", f.logoURI, &c.LogoURI},
		{"client-uri", f.clientURI, &c.ClientURI},
	} {
		if changed(t.flag) {
			*t.dst = t.v
		}
	}
	for _, b := range []struct {
		flag string
		v    bool
		dst  *bool
	}{
		{"require-consent", f.requireConsent, &c.RequireConsent},
		{"allow-remember-consent", f.allowRememberConsent, &c.AllowRememberConsent},
		{"require-mfa", f.requireMFA, &c.RequireMFA},
	} {
		if changed(b.flag) {
			*b.dst = b.v
		}
	}
	flag := func(name string, dst **bool, v bool) {
		if changed(name) {
			*dst = &v
		}
	}
	flag("require-dpop", &c.RequireDPoP, f.requireDPoP)
	flag("require-par", &c.RequirePushedAuthorizationRequests, f.requirePAR)
	// A client that stops using secrets keeps none.
	if m := c.TokenEndpointAuthMethod; m == config.AuthMethodNone || m == config.AuthMethodPrivateKeyJWT {
		c.Secrets = nil
	}
	return nil
}

// usesSecret reports whether a client authenticates with a secret.
func usesSecret(c *clientreg.Client) bool {
	switch c.TokenEndpointAuthMethod {
	case "", config.AuthMethodSecretBasic, config.AuthMethodSecretPost:
		return true
	}
	return false
}

// addedSecret is what add and rotate-secret print with --json.
type addedSecret struct {
	Client       json.RawMessage `json:"client"`
	ClientSecret string          `json:"clientSecret,omitempty"`
}
