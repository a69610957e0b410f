package config

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/signet-id/signet/branding"
)

// UI (ui) configures the pages Signet shows: the product's name, templates
// that replace the embedded ones, a style sheet, and the consent page's
// descriptions of scopes.
type UI struct {
	// ProductName (productName) names the product in the pages' titles
	// and on the sign-out page; "" means Signet.
	ProductName string
	// TemplatesDir (templatesDir) holds templates that replace the
	// embedded pages of the same file name; resolved against the
	// configuration's directory. "" for none.
	TemplatesDir string
	// Stylesheet (stylesheet) is the path of a CSS file added after the
	// built-in style; StylesheetCSS is its contents, read at load.
	Stylesheet    string
	StylesheetCSS string
	// ScopeDescriptions (scopeDescriptions) describe scopes in plain
	// words on the consent and account pages, by scope name.
	ScopeDescriptions map[string]string
}

// Session (session) configures login sessions.
type Session struct {
	// Lifetime (lifetime) is how long a login session lasts from sign-in;
	// DefaultSessionLifetime unless set.
	Lifetime time.Duration
	// IdleTimeout (idleTimeout) ends a session unused for longer; 0
	// (the default) means none.
	IdleTimeout time.Duration
}

// DefaultSessionLifetime is session.lifetime's default (server.DefaultSessionLifetime).
const DefaultSessionLifetime = 10 * time.Hour

type uiDoc struct {
	ProductName       string            `yaml:"productName"`
	TemplatesDir      string            `yaml:"templatesDir"`
	Stylesheet        string            `yaml:"stylesheet"`
	ScopeDescriptions map[string]string `yaml:"scopeDescriptions"`
}

type sessionDoc struct {
	Lifetime    *Duration `yaml:"lifetime"`
	IdleTimeout *Duration `yaml:"idleTimeout"`
}

// resolveUI checks ui and session.
func (p *parser) resolveUI(d *fileDoc, c *Config) error {
	c.Session.Lifetime = DefaultSessionLifetime
	if sd := d.Session; sd != nil {
		if sd.Lifetime != nil {
			if *sd.Lifetime < Duration(time.Minute) {
				return p.at("session.lifetime", "must be at least 1m, e.g. 8h")
			}
			c.Session.Lifetime = time.Duration(*sd.Lifetime)
		}
		if sd.IdleTimeout != nil {
			switch d := time.Duration(*sd.IdleTimeout); {
			case d < time.Minute:
				return p.at("session.idleTimeout", "must be at least 1m, e.g. 30m (leave it out for no idle timeout)")
			case d >= c.Session.Lifetime:
				return p.at("session.idleTimeout", "is %s, not shorter than session.lifetime (%s): it would never end a session; shorten it or remove it", d, c.Session.Lifetime)
			default:
				c.Session.IdleTimeout = d
			}
		}
	}
	ud := d.UI
	if ud == nil {
		return nil
	}
	if ud.ProductName != "" {
		if err := branding.CheckName(ud.ProductName); err != nil {
			return p.at("ui.productName", "%v", err)
		}
	}
	c.UI.ProductName = ud.ProductName
	if ud.TemplatesDir != "" {
		dir := p.path(ud.TemplatesDir)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return p.at("ui.templatesDir", "%s is not a readable directory; point it at the directory of your templates (login.html, consent.html, ...; see docs/users.md)", dir)
		}
		c.UI.TemplatesDir = dir
	}
	if ud.Stylesheet != "" {
		file := p.path(ud.Stylesheet)
		css, err := os.ReadFile(file)
		if err != nil {
			return p.at("ui.stylesheet", "%v; point it at a CSS file", err)
		}
		if err := branding.CheckStylesheet(string(css)); err != nil {
			return p.at("ui.stylesheet", "%s %v", file, err)
		}
		c.UI.Stylesheet, c.UI.StylesheetCSS = file, string(css)
	}
	for scope, text := range ud.ScopeDescriptions {
		if text == "" || len(text) > 300 {
			return p.at("ui.scopeDescriptions."+scope, "must be a non-empty sentence of at most 300 characters")
		}
	}
	if len(ud.ScopeDescriptions) > 0 {
		c.UI.ScopeDescriptions = ud.ScopeDescriptions
	}
	return nil
}

// resolveClientBranding checks a client's consent and branding settings.
func (p *parser) resolveClientBranding(path string, cd *clientDoc, cl *Client) error {
	code := slices.Contains(cl.AllowedGrantTypes, GrantAuthorizationCode)
	switch {
	case cd.RequireConsent && !code:
		return p.at(path+".requireConsent", "(%s) the consent page is part of the login flow; add authorization_code to allowedGrantTypes or remove requireConsent", cl.ClientID)
	case cd.AllowRememberConsent && !cd.RequireConsent:
		return p.at(path+".allowRememberConsent", "(%s) remembers the consent page's decision, but requireConsent is not true; set requireConsent: true or remove allowRememberConsent", cl.ClientID)
	}
	cl.RequireConsent, cl.AllowRememberConsent = cd.RequireConsent, cd.AllowRememberConsent
	if cd.DisplayName != "" {
		if err := branding.CheckName(cd.DisplayName); err != nil {
			return p.at(path+".displayName", "(%s) %v", cl.ClientID, err)
		}
	}
	if cd.LogoURI != "" {
		if err := branding.CheckLogoURI(cd.LogoURI); err != nil {
			return p.at(path+".logoUri", "(%s) %v", cl.ClientID, err)
		}
	}
	if cd.ClientURI != "" {
		if err := branding.CheckClientURI(cd.ClientURI); err != nil {
			return p.at(path+".clientUri", "(%s) %v", cl.ClientID, err)
		}
	}
	cl.DisplayName, cl.LogoURI, cl.ClientURI = cd.DisplayName, cd.LogoURI, cd.ClientURI
	return nil
}

// String is for messages.
func (s Session) String() string {
	return fmt.Sprintf("lifetime %s, idle timeout %s", s.Lifetime, s.IdleTimeout)
}
