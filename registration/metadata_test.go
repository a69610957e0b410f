package registration

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var policy = Policy{InitialAccessToken: InitialAccessTokenOptional,
	AllowedGrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}, AllowedScopes: []string{"openid", "profile", "offline_access"}}

func TestCheckAccepts(t *testing.T) {
	c, err := policy.Check(Metadata{RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:53121/cb", "http://[::1]/cb", "http://localhost:8080/x?y=1"},
		TokenEndpointAuthMethod: AuthNone, Scope: "openid openid profile", ClientName: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Public || c.NeedsSecret || c.Scope != "openid profile" || strings.Join(c.GrantTypes, ",") != "authorization_code" || strings.Join(c.ResponseTypes, ",") != "code" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = policy.Check(Metadata{RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Public || !c.NeedsSecret || c.TokenEndpointAuthMethod != AuthClientSecretBasic || c.Scope != "openid profile offline_access" {
		t.Errorf("a confidential client with every allowed scope: %+v", c)
	}
}

// Every refusal names its RFC 7591 code and the field.
func TestCheckRefuses(t *testing.T) {
	cb := []string{"https://app.example/cb"}
	jwks := json.RawMessage(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}`)
	for name, tc := range map[string]struct {
		md         Metadata
		code, want string
	}{
		"fragment":           {Metadata{RedirectURIs: []string{"https://app.example/cb#x"}}, CodeInvalidRedirectURI, "fragment"},
		"wildcard":           {Metadata{RedirectURIs: []string{"https://*.app.example/cb"}}, CodeInvalidRedirectURI, "wildcard"},
		"http not loopback":  {Metadata{RedirectURIs: []string{"http://app.example/cb"}}, CodeInvalidRedirectURI, "loopback"},
		"custom scheme":      {Metadata{RedirectURIs: []string{"com.example.app:/cb"}}, CodeInvalidRedirectURI, "https"},
		"relative":           {Metadata{RedirectURIs: []string{"/cb"}}, CodeInvalidRedirectURI, "https"},
		"userinfo":           {Metadata{RedirectURIs: []string{"https://u:p@app.example/cb"}}, CodeInvalidRedirectURI, "user information"},
		"none":               {Metadata{}, CodeInvalidRedirectURI, "at least one redirect URI"},
		"logout fragment":    {Metadata{RedirectURIs: cb, PostLogoutRedirectURIs: []string{"https://a.example/#"}}, CodeInvalidRedirectURI, "post_logout_redirect_uris"},
		"grant not allowed":  {Metadata{RedirectURIs: cb, GrantTypes: []string{"client_credentials"}}, CodeInvalidClientMetadata, "grant_types"},
		"implicit":           {Metadata{RedirectURIs: cb, GrantTypes: []string{"implicit"}}, CodeInvalidClientMetadata, "grant_types"},
		"response type":      {Metadata{RedirectURIs: cb, ResponseTypes: []string{"token"}}, CodeInvalidClientMetadata, "response_types"},
		"scope not allowed":  {Metadata{RedirectURIs: cb, Scope: "openid admin"}, CodeInvalidClientMetadata, `scope: "admin"`},
		"auth method":        {Metadata{RedirectURIs: cb, TokenEndpointAuthMethod: "tls_client_auth"}, CodeInvalidClientMetadata, "token_endpoint_auth_method"},
		"jwks without pkjwt": {Metadata{RedirectURIs: cb, JWKSURI: "https://app.example/jwks"}, CodeInvalidClientMetadata, "private_key_jwt"},
		"jwks and uri":       {Metadata{RedirectURIs: cb, TokenEndpointAuthMethod: AuthPrivateKeyJWT, JWKSURI: "https://app.example/jwks", JWKS: jwks}, CodeInvalidClientMetadata, "not both"},
		"private jwk":        {Metadata{RedirectURIs: cb, TokenEndpointAuthMethod: AuthPrivateKeyJWT, JWKS: jwks}, CodeInvalidClientMetadata, "jwks"},
		"pkjwt without keys": {Metadata{RedirectURIs: cb, TokenEndpointAuthMethod: AuthPrivateKeyJWT}, CodeInvalidClientMetadata, "needs jwks or jwks_uri"},
		"logo over http":     {Metadata{RedirectURIs: cb, LogoURI: "http://app.example/logo.png"}, CodeInvalidClientMetadata, "logo_uri"},
		"software statement": {Metadata{RedirectURIs: cb, SoftwareStatement: "eyJ..."}, CodeUnapprovedSoftwareStatement, "software_statement"},
		"too many uris":      {Metadata{RedirectURIs: make([]string, MaxRedirectURIs+1)}, CodeInvalidRedirectURI, "at most"},
	} {
		_, err := policy.Check(tc.md)
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || !strings.Contains(e.Description, tc.want) {
			t.Errorf("%s: %v; want %s mentioning %q", name, err, tc.code, tc.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := policy.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{InitialAccessToken: "sometimes", AllowedGrantTypes: []string{"authorization_code"}, AllowedScopes: []string{"openid"}}, "initialAccessToken"},
		{Policy{InitialAccessToken: "required", AllowedScopes: []string{"openid"}}, "allowedGrantTypes"},
		{Policy{InitialAccessToken: "required", AllowedGrantTypes: []string{"implicit"}, AllowedScopes: []string{"openid"}}, `"implicit"`},
		{Policy{InitialAccessToken: "required", AllowedGrantTypes: []string{"authorization_code"}}, "allowedScopes"},
		{Policy{InitialAccessToken: "required", AllowedGrantTypes: []string{"authorization_code"}, AllowedScopes: []string{"openid"}, DefaultLifetime: -1}, "defaultLifetime"},
	} {
		if err := tc.p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %q", tc.p, err, tc.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	a, stored, err := NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, a) || !strings.HasPrefix(stored, "sha256:") {
		t.Fatalf("stored form %q", stored)
	}
	b, _, _ := NewSecret(nil)
	if !CheckSecret(stored, a) || CheckSecret(stored, b) || CheckSecret(stored, "") || CheckSecret("plain:"+a, a) || CheckSecret(a, a) {
		t.Error("CheckSecret")
	}
}
