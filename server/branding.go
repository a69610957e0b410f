package server

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"time"

	"github.com/signet-id/signet/branding"
)

// UI configures the pages the server shows (login, consent, account,
// sign-out, errors).
type UI struct {
	// ProductName names the product in the pages' titles and the
	// sign-out page; "" means branding.DefaultProductName.
	ProductName string
	// Templates, when set, holds templates that replace the embedded ones
	// of the same file name (login.html, consent.html, layout.html, ...);
	// TemplatesDir names where they came from, for messages. They are
	// parsed and executed against sample data in New: a broken template
	// is an error naming its file and line.
	Templates    fs.FS
	TemplatesDir string
	// Stylesheet is CSS added after the built-in style, inline in every
	// page and allowed by its hash in the Content-Security-Policy
	// (branding.CheckStylesheet).
	Stylesheet string
	// ScopeDescriptions describe scopes in plain words on the consent
	// and account pages, replacing DefaultScopeDescription.
	ScopeDescriptions map[string]string
}

// uiState is the checked UI of the login flows.
type uiState struct {
	scopeDescriptions map[string]string
}

// clientView is a client as the pages show it.
type clientView struct {
	ID   string
	Name string // DisplayName, or the client id
	// LogoURI is an https URL or a data: URI (branding.CheckLogoURI),
	// allowed by the page's Content-Security-Policy; "" for none.
	LogoURI   template.URL
	ClientURI string
}

// clientView returns lc as the pages show it.
func (s *Server) clientView(lc *loginClient) clientView {
	return clientView{ID: lc.ID, Name: cmp.Or(lc.displayName, lc.ID), LogoURI: template.URL(lc.logoURI), ClientURI: lc.clientURI}
}

// clientName is the display name of the client id (clientView), or id
// itself.
func (s *Server) clientName(id string) string {
	if lc := s.reg.Load().login[id]; lc != nil {
		return s.clientView(lc).Name
	}
	return id
}

// checkBranding checks a client's display name, logo and home page.
func checkBranding(c Client) error {
	if c.DisplayName != "" {
		if err := branding.CheckName(c.DisplayName); err != nil {
			return fmt.Errorf("server: client %q: DisplayName %w", c.ID, err)
		}
	}
	if c.LogoURI != "" {
		if err := branding.CheckLogoURI(c.LogoURI); err != nil {
			return fmt.Errorf("server: client %q: LogoURI %w", c.ID, err)
		}
	}
	if c.ClientURI != "" {
		if err := branding.CheckClientURI(c.ClientURI); err != nil {
			return fmt.Errorf("server: client %q: ClientURI %w", c.ID, err)
		}
	}
	return nil
}

// pageSamples is sample data for every page template: New executes each
// template with it, so a template that fails on real data fails at
// start-up. A new page adds its sample here.
func pageSamples() map[string]any {
	cv := clientView{ID: "portal", Name: "Example Portal", LogoURI: "data:image/png;base64,iVBORw0KGgo=", ClientURI: "https://portal.example.com"}
	scopes := []scopeView{{Scope: "openid", Description: defaultScopeDescriptions["openid"]}, {Scope: "email", Description: defaultScopeDescriptions["email"]}}
	return map[string]any{
		"login.html": loginView{ClientID: "portal", Client: cv, Action: "/account/login", Request: "client_id=portal", CSRF: "x", Username: "alice", Error: "The username or password is incorrect."},
		"consent.html": consentView{Client: cv, Username: "Alice", Scopes: scopes, CanRemember: true, Action: PathConsent,
			Request: "client_id=portal", Form: "f", CSRF: "x", Error: "message"},
		"account.html": accountView{Username: "Alice", SignedIn: true, Action: PathAccount, Message: "message",
			Consents: []accountConsent{{Client: cv, Scopes: scopes, Granted: "2026-12-06", CSRF: "x"}}},
		"logout.html":    logoutView{Username: "Alice", ClientID: "portal", ClientName: "Example Portal", Action: PathEndSession, CSRF: "x", PostLogoutRedirectURI: "https://portal.example.com/bye", State: "s", Error: "message"},
		"signedout.html": nil,
		"error.html":     "message",
	}
}

// templateErrLine turns html/template's "template: NAME:LINE[:COL]: ..."
// into "DIR/NAME:LINE[:COL]: ...".
var templateErrLine = regexp.MustCompile(`^template: ([^:]+):(\d+(?::\d+)?): `)

// templateError names the file and line of a template error.
func templateError(dir string, err error) error {
	msg := err.Error()
	if m := templateErrLine.FindStringSubmatch(msg); m != nil {
		file := m[1]
		if dir != "" {
			file = path.Join(dir, file)
		}
		return fmt.Errorf("server: UI template %s:%s: %s", file, m[2], msg[len(m[0]):])
	}
	return fmt.Errorf("server: UI templates: %w", err)
}

// parseTemplates parses the embedded templates, then ui.Templates over
// them, and executes every page against its sample data.
func parseTemplates(ui UI, data func(page any) pageData) (*template.Template, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if ui.Templates != nil {
		names, err := fs.Glob(ui.Templates, "*.html")
		if err != nil {
			return nil, fmt.Errorf("server: UI templates in %s: %w", ui.TemplatesDir, err)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("server: UI templates: %s holds no .html file; put there the templates to replace (login.html, consent.html, layout.html, ...) or remove ui.templatesDir", ui.TemplatesDir)
		}
		for _, n := range names {
			if t.Lookup(n) == nil {
				known := []string{}
				for _, tt := range t.Templates() {
					if path.Ext(tt.Name()) == ".html" {
						known = append(known, tt.Name())
					}
				}
				slices.Sort(known)
				return nil, fmt.Errorf("server: UI template %s: no built-in page is called %s; a template replaces the page of the same name: %v", path.Join(ui.TemplatesDir, n), n, known)
			}
		}
		if t, err = t.ParseFS(ui.Templates, "*.html"); err != nil {
			return nil, templateError(ui.TemplatesDir, err)
		}
	}
	for name, sample := range pageSamples() {
		if err := t.ExecuteTemplate(io.Discard, name, data(sample)); err != nil {
			return nil, templateError(ui.TemplatesDir, err)
		}
	}
	return t, nil
}

// sessionStarted records a new login session's first activity, for the
// idle timeout. A failure is logged: the session's first use records it.
func (s *Server) sessionStarted(ctx context.Context, sess *session) {
	if s.oidc.idleTimeout <= 0 {
		return
	}
	if _, err := s.oidc.activity.TouchSession(ctx, sess.id, s.now(), s.oidc.idleTimeout); err != nil {
		s.log.Error("recording the login session's activity failed", "error", err)
	}
}

// sessionCookieAge is the session cookie's Max-Age in seconds.
func (s *Server) sessionCookieAge() int { return int(s.oidc.sessionLifetime / time.Second) }

// sessionIdle reports whether the login session id has been idle for
// longer than the idle timeout (and records its use otherwise).
func (s *Server) sessionIdle(ctx context.Context, id string) (bool, error) {
	if s.oidc.idleTimeout <= 0 {
		return false, nil
	}
	alive, err := s.oidc.activity.TouchSession(ctx, id, s.now(), s.oidc.idleTimeout)
	if err != nil {
		return false, fmt.Errorf("server: the session activity store: %w", err)
	}
	return !alive, nil
}
