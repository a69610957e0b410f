package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAdminAPIConfig(t *testing.T) {
	c := mustParse(t, minimal+`
adminAPI: { enabled: true }
clients:
  - clientId: ops
    secrets: ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [signet.admin.read, signet.admin.write]
`, nil)
	if !c.AdminAPI.Enabled || len(c.APIResources) != 1 || c.APIResources[0].Name != "signet-admin" || !slices.Contains(c.APIResources[0].Scopes, "signet.admin.write") {
		t.Fatalf("adminAPI: %+v %+v", c.AdminAPI, c.APIResources)
	}
	// Without the admin API the scopes are unknown.
	if _, err := parse(t, minimal+`
clients:
  - clientId: ops
    secrets: ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [signet.admin.read]
`, nil); err == nil || !strings.Contains(err.Error(), "signet.admin.read") {
		t.Errorf("admin scopes without adminAPI: %v", err)
	}
	for doc, want := range map[string]string{
		"adminAPI: { enabled: true }\napiResources: [{ name: signet-admin, scopes: [a] }]\n":                        "apiResources[0]: the name signet-admin",
		"dynamicRegistration: { enabled: true }\n":                                                                  "dynamicRegistration.initialAccessToken: required needs adminAPI.enabled",
		"dynamicRegistration: { enabled: true, initialAccessToken: maybe }\n":                                       `"maybe" is neither`,
		"dynamicRegistration: { enabled: true, initialAccessToken: optional, allowedGrantTypes: [implicit] }\n":     `allowedGrantTypes[0]: "implicit"`,
		"dynamicRegistration: { enabled: true, initialAccessToken: optional, allowedScopes: [orders.read] }\n":      `allowedScopes[0]: scope "orders.read" belongs to no API resource`,
		"adminAPI: { enabled: true }\ndynamicRegistration: { enabled: true, allowedScopes: [signet.admin.read] }\n": "never gets admin scopes",
		"dynamicRegistration: { enabled: true, initialAccessToken: optional, defaultLifetime: 0s }\n":               "open registration must expire",
		"adminAPI: { enabled: true }\ndynamicRegistration: { enabled: true, allowedScopes: [] }\n":                  "allowedScopes",
		"dynamicRegistration: { enabled: true, initialAccessToken: optional, allowedGrantTypes: [] }\n":             "allowedGrantTypes",
	} {
		if _, err := parse(t, minimal+doc, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", doc, err, want)
		}
	}
	if _, err := parse(t, "issuer: https://login.example.com\nstorage: { driver: file }\nadminAPI: { enabled: true }\n", nil); err == nil || !strings.Contains(err.Error(), "adminAPI.enabled: needs storage.driver") {
		t.Errorf("file store: %v", err)
	}

	c = mustParse(t, minimal+"dynamicRegistration: { enabled: true, initialAccessToken: optional, allowedScopes: [openid, profile] }\n", nil)
	p := c.DynamicRegistration.Policy
	if !c.DynamicRegistration.Enabled || p.DefaultLifetime != DefaultOpenRegistrationLifetime || strings.Join(p.AllowedGrantTypes, ",") != "authorization_code,refresh_token" || p.RequireConsent {
		t.Errorf("defaults: %+v", c.DynamicRegistration)
	}
	c = mustParse(t, minimal+"dynamicRegistration: { enabled: true, initialAccessToken: optional, requireConsent: true }\n", nil)
	if !c.DynamicRegistration.Policy.RequireConsent {
		t.Errorf("requireConsent: %+v", c.DynamicRegistration.Policy)
	}
	c = mustParse(t, minimal+"adminAPI: { enabled: true }\ndynamicRegistration: { enabled: true, defaultLifetime: 24h }\n", nil)
	if p := c.DynamicRegistration.Policy; p.InitialAccessToken != "required" || p.DefaultLifetime != 24*time.Hour || strings.Join(p.AllowedScopes, ",") != "openid" {
		t.Errorf("required: %+v", p)
	}
}
