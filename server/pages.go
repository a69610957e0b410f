package server

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"

	"github.com/signet-id/signet/branding"
	"github.com/signet-id/signet/server/internal/oauth"
)

// templateFS holds the HTML pages of the login flows (read only).
//
//go:embed templates/*.html
var templateFS embed.FS

// pageCSS styles every page: one column, readable on a phone, visible
// focus, light and dark. It is inline (no external assets) and allowed by
// its hash in the Content-Security-Policy.
const pageCSS = `:root{color-scheme:light dark}` +
	`body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}` +
	`main{box-sizing:border-box;max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.2)}` +
	`h1{font-size:1.5rem;margin:0 0 .5rem}` +
	`label{display:block;margin-top:1rem;font-weight:600}` +
	`input{box-sizing:border-box;width:100%;margin-top:.25rem;padding:.65rem;font:inherit;color:inherit;background:inherit;border:1px solid #6b7280;border-radius:.25rem}` +
	`button{box-sizing:border-box;width:100%;margin-top:1.5rem;padding:.7rem;font:inherit;font-weight:600;color:#fff;background:#1d4ed8;border:0;border-radius:.25rem;cursor:pointer}` +
	`button.secondary{margin-top:.75rem;color:inherit;background:transparent;border:1px solid #6b7280}` +
	`input:focus-visible,button:focus-visible{outline:3px solid #d97706;outline-offset:2px}` +
	`.error{padding:.6rem .8rem;border-left:4px solid #b91c1c;background:#fef2f2;color:#7f1d1d}` +
	`h2{font-size:1.15rem;margin:1.5rem 0 .5rem}h3{font-size:1rem;margin:1rem 0 .25rem}a{color:#1d4ed8}` +
	`.client img{vertical-align:middle;border-radius:.25rem}.scopes{padding-left:1.25rem}.muted{color:#4b5563}` +
	`.check{display:flex;gap:.5rem;align-items:center;margin-top:1rem}.check input{width:auto;margin:0}.check label{margin:0;font-weight:400}` +
	`.notice{padding:.6rem .8rem;border-left:4px solid #15803d;background:#f0fdf4;color:#14532d}` +
	`@media (max-width:30rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}` +
	`@media (prefers-color-scheme:dark){body{background:#111827;color:#f3f4f6}main{background:#1f2937}.error{background:#450a0a;color:#fecaca}` +
	`a{color:#93c5fd}.muted{color:#d1d5db}.notice{background:#052e16;color:#bbf7d0}}`

// pages renders the login-flow pages.
type pages struct {
	t       *template.Template
	csp     string
	css     string // pageCSS and UI.Stylesheet
	product string // UI.ProductName
}

// newPages parses the templates (the embedded ones, ui.Templates over
// them) and checks them against sample data (branding.go).
func newPages(ui UI) (*pages, error) {
	if err := branding.CheckStylesheet(ui.Stylesheet); err != nil {
		return nil, fmt.Errorf("server: UI.Stylesheet %w", err)
	}
	if ui.ProductName != "" {
		if err := branding.CheckName(ui.ProductName); err != nil {
			return nil, fmt.Errorf("server: UI.ProductName %w", err)
		}
	}
	p := &pages{css: pageCSS + ui.Stylesheet, product: cmp.Or(ui.ProductName, branding.DefaultProductName)}
	var err error
	if p.t, err = parseTemplates(ui, p.data); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(p.css))
	p.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; script-src " + passkeyScriptHash() + "; base-uri 'none'; frame-ancestors 'none'"
	return p, nil
}

// data is what a template gets for page.
func (p *pages) data(page any) pageData {
	return pageData{CSS: template.CSS(p.css), Product: p.product, Page: page}
}

// pageData is what every template gets: the title, the style sheet and
// the page's own data.
type pageData struct {
	Title string
	CSS   template.CSS
	// Product names the product (UI.ProductName, "Signet" by default).
	Product string
	Page    any
}

// render writes a page with the headers every page gets: no caching, no
// framing, no referrer, a CSP that allows only the inline style.
func (p *pages) render(w http.ResponseWriter, status int, name, title string, page any) {
	p.renderFor(w, status, name, title, page, "")
}

// renderFor is render for a page that shows a client's logo: its
// Content-Security-Policy allows that image exactly (img-src), and only
// it.
func (p *pages) renderFor(w http.ResponseWriter, status int, name, title string, page any, logo string) {
	var buf bytes.Buffer
	d := p.data(page)
	d.Title = title
	if err := p.t.ExecuteTemplate(&buf, name, d); err != nil {
		// Only a programming error gets here (the templates are embedded
		// and tested); say nothing about it.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	csp := p.csp
	if logo != "" {
		csp += "; img-src " + branding.ImageSource(logo)
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage shows a message; it never carries internal details.
func (p *pages) errorPage(w http.ResponseWriter, status int, title, msg string) {
	p.render(w, status, "error.html", title, msg)
}

// loginView is the login page's data.
type loginView struct {
	ClientID string
	Client   clientView // its display name, logo and home page
	Action   string
	Request  string // the pending authorization request (a query string)
	CSRF     string
	Username string
	Error    string
	// Form shows the username and password form; Connector (with
	// ConnectorName) makes it a password connector's; Connectors are the
	// buttons of the other ways to sign in (connectors.go).
	Form          bool
	Connector     string
	ConnectorName string
	Connectors    []connectorButton
}

// logoutView is the sign-out confirmation page's data.
type logoutView struct {
	Username              string
	ClientID              string
	ClientName            string // its display name (branding), or ClientID
	Action                string
	CSRF                  string
	PostLogoutRedirectURI string
	State                 string
	Error                 string
}
