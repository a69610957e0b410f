package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const consentClient = "clients:\n  - clientId: portal\n    tokenEndpointAuthMethod: none\n    allowedGrantTypes: [authorization_code]\n    allowedScopes: [openid]\n    redirectUris: [https://portal.example.com/cb]\n"

func TestUIAndSession(t *testing.T) {
	dir := t.TempDir()
	css := filepath.Join(dir, "brand.css")
	if err := os.WriteFile(css, []byte("main{border-top:4px solid #7c3aed}"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := minimal + consentClient +
		"    requireConsent: true\n    allowRememberConsent: true\n    displayName: Example Portal\n    logoUri: https://portal.example.com/logo.png\n    clientUri: https://portal.example.com\n" +
		"ui:\n  productName: Acme ID\n  templatesDir: " + dir + "\n  stylesheet: " + css + "\n  scopeDescriptions:\n    openid: Know it is you\n" +
		"session:\n  lifetime: 8h\n  idleTimeout: 30m\n"
	c := mustParse(t, doc, nil)
	cl := c.Clients[0]
	if !cl.RequireConsent || !cl.AllowRememberConsent || cl.DisplayName != "Example Portal" || cl.LogoURI != "https://portal.example.com/logo.png" || cl.ClientURI != "https://portal.example.com" {
		t.Errorf("client %+v", cl)
	}
	if c.UI.ProductName != "Acme ID" || c.UI.TemplatesDir != dir || c.UI.StylesheetCSS != "main{border-top:4px solid #7c3aed}" || c.UI.ScopeDescriptions["openid"] != "Know it is you" {
		t.Errorf("ui %+v", c.UI)
	}
	if c.Session != (Session{Lifetime: 8 * time.Hour, IdleTimeout: 30 * time.Minute}) {
		t.Errorf("session %+v", c.Session)
	}
	if d := mustParse(t, minimal, nil).Session; d != (Session{Lifetime: DefaultSessionLifetime}) {
		t.Errorf("default session %+v", d)
	}
}

func TestUIErrors(t *testing.T) {
	for doc, want := range map[string]string{
		minimal + consentClient + "    logoUri: http://portal.example.com/logo.png\n":                                                            "signet.yaml:10: clients[0].logoUri: (portal) must be an https URL",
		minimal + consentClient + "    logoUri: data:text/html;base64,PGI+\n":                                                                    "clients[0].logoUri: (portal) a data: logo must be a base64 image",
		minimal + consentClient + "    clientUri: portal.example.com\n":                                                                          "clients[0].clientUri: (portal) must be an absolute http(s) URL",
		minimal + consentClient + "    allowRememberConsent: true\n":                                                                             "clients[0].allowRememberConsent: (portal) remembers the consent page's decision, but requireConsent is not true",
		minimal + "session:\n  lifetime: 1h\n  idleTimeout: 2h\n":                                                                                "signet.yaml:6: session.idleTimeout: is 2h0m0s, not shorter than session.lifetime (1h0m0s)",
		minimal + "session:\n  lifetime: 10s\n":                                                                                                  "session.lifetime: must be at least 1m",
		minimal + "ui:\n  templatesDir: /nonexistent/templates\n":                                                                                "ui.templatesDir: /nonexistent/templates is not a readable directory",
		minimal + "ui:\n  stylesheet: /nonexistent/brand.css\n":                                                                                  "ui.stylesheet: open /nonexistent/brand.css: no such file or directory",
		minimal + "ui:\n  productName: \"two\\nlines\"\n":                                                                                        "ui.productName: must be one line",
		minimal + "clients:\n  - clientId: m2m\n    secrets: [plain:x]\n    allowedGrantTypes: [client_credentials]\n    requireConsent: true\n": "clients[0].requireConsent: (m2m) the consent page is part of the login flow",
	} {
		if _, err := parse(t, doc, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n  %v\nwant:\n  %s", err, want)
		}
	}
}
