package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newClientsShowCmd(e *env, o *registryOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show CLIENT_ID",
		Short: "Show a stored client, without its secrets",
		Long: `show prints a stored client: its settings, its secrets (when each was
created and when it expires, never the hash) and its revision, for
update --if-revision. --json prints the record as the admin API does.`,
		Example: `  signet clients show --config signet.yaml billing
  signet clients show --config signet.yaml billing --json`,
		Args: exactlyOneID("client id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openRegistry(cmd.Context(), o, e)
			if err != nil {
				return err
			}
			defer s.close()
			c, err := s.reg.Client(cmd.Context(), args[0])
			if err != nil {
				return registryError(err, "client", args[0], "clients")
			}
			if asJSON {
				return printRecord(e.stdout, c)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(tw, "%s\t%s\n", k, v)
				}
			}
			list := func(k string, v []string) { row(k, strings.Join(v, " ")) }
			row("clientId", c.ClientID)
			row("clientName", c.ClientName)
			row("displayName", c.DisplayName)
			row("logoUri", c.LogoURI)
			row("clientUri", c.ClientURI)
			row("tokenEndpointAuthMethod", authMethod(c.TokenEndpointAuthMethod))
			list("allowedGrantTypes", c.AllowedGrantTypes)
			list("allowedScopes", c.AllowedScopes)
			list("redirectUris", c.RedirectURIs)
			list("postLogoutRedirectUris", c.PostLogoutRedirectURIs)
			list("allowedCorsOrigins", c.AllowedCORSOrigins)
			list("allowedIdentityTokenSigningAlgorithms", c.AllowedIdentityTokenSigningAlgorithms)
			row("accessTokenLifetime", c.AccessTokenLifetime)
			row("refreshTokenLifetime", c.RefreshTokenLifetime)
			row("identityTokenLifetime", c.IdentityTokenLifetime)
			row("refreshTokenReuseInterval", c.RefreshTokenReuseInterval)
			row("jwksUri", c.JWKSURI)
			if len(c.JWKS) > 0 {
				row("jwks", "inline")
			}
			row("securityProfile", c.SecurityProfile)
			if c.RequireDPoP != nil {
				row("requireDPoP", fmt.Sprint(*c.RequireDPoP))
			}
			if c.RequirePushedAuthorizationRequests != nil {
				row("requirePushedAuthorizationRequests", fmt.Sprint(*c.RequirePushedAuthorizationRequests))
			}
			for _, b := range []struct {
				k string
				v bool
			}{{"requireConsent", c.RequireConsent}, {"allowRememberConsent", c.AllowRememberConsent}, {"requireMfa", c.RequireMFA}} {
				if b.v {
					row(b.k, "true")
				}
			}
			list("allowedConnectors", c.AllowedConnectors)
			now := s.now()
			for i, sec := range c.Secrets {
				v := "created " + stamp(sec.CreatedAt)
				switch {
				case sec.ExpiresAt != nil && sec.ValidAt(now):
					v += ", expires " + stamp(*sec.ExpiresAt)
				case sec.ExpiresAt != nil:
					v += ", expired " + stamp(*sec.ExpiresAt)
				}
				row(fmt.Sprintf("secrets[%d]", i), v)
			}
			row("revision", fmt.Sprint(c.Meta.Revision))
			row("created", stamp(c.Meta.CreatedAt)+" by "+c.Meta.CreatedBy)
			row("updated", stamp(c.Meta.UpdatedAt)+" by "+c.Meta.UpdatedBy)
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// exactlyOneID takes one argument, what, as a usage error otherwise.
func exactlyOneID(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usageError{fmt.Errorf("%s takes one argument, the %s (see %s --help)", cmd.CommandPath(), what, cmd.CommandPath())}
		}
		return nil
	}
}
