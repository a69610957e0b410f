package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"

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
	`@media (max-width:30rem){main{margin:0;min-height:100vh;border-radius:0;box-shadow:none}}` +
	`@media (prefers-color-scheme:dark){body{background:#111827;color:#f3f4f6}main{background:#1f2937}.error{background:#450a0a;color:#fecaca}}`

// pages renders the login-flow pages.
type pages struct {
	t   *template.Template
	csp string
}

func newPages() (*pages, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(pageCSS))
	return &pages{t: t, csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; frame-ancestors 'none'"}, nil
}

// pageData is what every template gets: the title, the style sheet and
// the page's own data.
type pageData struct {
	Title string
	CSS   template.CSS
	Page  any
}

// render writes a page with the headers every page gets: no caching, no
// framing, no referrer, a CSP that allows only the inline style.
func (p *pages) render(w http.ResponseWriter, status int, name, title string, page any) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, pageData{Title: title, CSS: template.CSS(pageCSS), Page: page}); err != nil {
		// Only a programming error gets here (the templates are embedded
		// and tested); say nothing about it.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h["Cache-Control"] = oauth.HdrNoStore
	h["Pragma"] = oauth.HdrNoCache
	h.Set("Content-Security-Policy", p.csp)
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
	Action                string
	CSRF                  string
	PostLogoutRedirectURI string
	State                 string
	Error                 string
}
