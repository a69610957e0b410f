package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/signet-id/signet/keystore/memstore"
)

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

const logoData = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="

func withBranding(logo string) func(*Config) {
	return func(c *Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == "spa" {
				c.Clients[i].DisplayName = "Example Portal"
				c.Clients[i].LogoURI = logo
				c.Clients[i].ClientURI = "https://portal.example.com"
			}
		}
	}
}

// loginPage opens the login page of an authorization request.
func (b *browser) loginPage(q url.Values) page {
	b.e.t.Helper()
	p := b.authorize(q)
	return b.get(p.Header.Get("Location"))
}

func TestLoginPageShowsClientBranding(t *testing.T) {
	for _, tc := range []struct{ logo, imgSrc string }{
		{logoData, "img-src data:"},
		{"https://cdn.example.com/brand/logo.svg?v=2", "img-src https://cdn.example.com/brand/logo.svg"},
	} {
		e := newLoginEnv(t, withBranding(tc.logo))
		p := e.browser().loginPage(spaRequest())
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.HasSuffix(csp, "; "+tc.imgSrc) || strings.Count(csp, "img-src") != 1 {
			t.Errorf("CSP %q, want it to end with %q", csp, tc.imgSrc)
		}
		for _, want := range []string{`to continue to <a href="https://portal.example.com" rel="noopener noreferrer"><strong>Example Portal</strong></a>`, `<img src="` + strings.ReplaceAll(tc.logo, "&", "&amp;") + `" alt=""`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("login page lacks %s:\n%s", want, p.body)
			}
		}
	}
	// Without branding: the client id, no image, no img-src.
	e := newLoginEnv(t)
	p := e.browser().loginPage(spaRequest())
	if !strings.Contains(p.body, "to continue to <strong>spa</strong>") || strings.Contains(p.body, "<img") ||
		strings.Contains(p.Header.Get("Content-Security-Policy"), "img-src") {
		t.Fatalf("unbranded login page: %s %s", p.Header.Get("Content-Security-Policy"), p.body)
	}
}

func TestLogoURIRefused(t *testing.T) {
	for _, logo := range []string{"http://cdn.example.com/logo.png", "/logo.png", "javascript:alert(1)", "data:text/html;base64,PGI+", "data:image/png,raw", "https://cdn.example.com/a;b.png"} {
		clients, resources := loginClients(t)
		clients[len(clients)-2].LogoURI = logo
		_, err := New(Config{Issuer: "https://id.example.com", Keys: newFakeKeys(t), Clients: clients, APIResources: resources, Grants: memstore.New()})
		if err == nil || !strings.Contains(err.Error(), `client "spa": LogoURI`) {
			t.Errorf("logo %q: %v", logo, err)
		}
	}
}

func TestProductNameAndStylesheet(t *testing.T) {
	css := `main{border-top:4px solid #7c3aed}`
	e := newLoginEnv(t, func(c *Config) { c.UI = UI{ProductName: "Acme ID", Stylesheet: css} })
	b := e.browser()
	p := b.loginPage(spaRequest())
	if !strings.Contains(p.body, "<title>Sign in · Acme ID</title>") || !strings.Contains(p.body, css+"</style>") {
		t.Fatalf("login page: %s", p.body)
	}
	sum := sha256.Sum256([]byte(pageCSS + css))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(p.Header.Get("Content-Security-Policy"), want) {
		t.Fatalf("CSP %q lacks %s", p.Header.Get("Content-Security-Policy"), want)
	}
	b = e.signedInBrowser()
	p = b.get(e.issuer + PathEndSession)
	p = b.post(e.issuer+PathEndSession, url.Values{"csrf": {reCSRF.FindStringSubmatch(p.body)[1]}})
	if !strings.Contains(p.body, "You are signed out of Acme ID.") {
		t.Fatalf("signed-out page: %s", p.body)
	}
	if _, err := New(Config{Issuer: "https://id.example.com", Keys: newFakeKeys(t), Grants: memstore.New(), UI: UI{Stylesheet: "p{}</style><script>"}}); err == nil || !strings.Contains(err.Error(), "Stylesheet") {
		t.Fatalf("a style sheet that ends its element: %v", err)
	}
}

func TestCustomTemplates(t *testing.T) {
	fsys := fstest.MapFS{
		"login.html": {Data: []byte(`{{template "head" .}}{{with .Page}}<p class="acme">Welcome to Acme, {{.Client.Name}}</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="request" value="{{.Request}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label for="username">User</label><input id="username" name="username"><label for="password">Password</label><input id="password" name="password" type="password"><button>Go</button></form>{{end}}{{template "foot" .}}`)},
	}
	e := newLoginEnv(t, withBranding(""), func(c *Config) { c.UI = UI{Templates: fsys, TemplatesDir: "/etc/signet/templates"} })
	b := e.browser()
	p := b.loginPage(spaRequest())
	if !strings.Contains(p.body, `<p class="acme">Welcome to Acme, Example Portal</p>`) {
		t.Fatalf("custom login page: %s", p.body)
	}
	// The other pages are still the embedded ones, and the form works.
	if cb := e.callback(b.submitLogin(p.body, "alice", alicePassword), spaRedirect); cb.Get("code") == "" {
		t.Fatalf("sign-in through the custom page: %v", cb)
	}

	for _, tc := range []struct {
		name, file, text, want string
	}{
		{"parse error", "login.html", "<p>\n{{if .Page}}\n", "server: UI template /etc/signet/templates/login.html:3: unexpected EOF"},
		{"unknown field", "consent.html", "{{template \"head\" .}}\n<p>{{.Page.Client.Nmae}}</p>", "server: UI template /etc/signet/templates/consent.html:2:10: executing \"consent.html\" at <.Page.Client.Nmae>: can't evaluate field Nmae"},
		{"unknown page", "logon.html", "<p>", "server: UI template /etc/signet/templates/logon.html: no built-in page is called logon.html"},
	} {
		fsys := fstest.MapFS{tc.file: {Data: []byte(tc.text)}}
		_, err := New(Config{Issuer: "https://id.example.com", Keys: newFakeKeys(t), Grants: memstore.New(), UI: UI{Templates: fsys, TemplatesDir: "/etc/signet/templates"}})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant the prefix %s", tc.name, err, tc.want)
		}
	}
}

func TestSessionLifetimeSetsCookie(t *testing.T) {
	e := newLoginEnv(t, func(c *Config) { c.SessionLifetime = 90 * 60e9 })
	b := e.browser()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	var found bool
	for _, c := range p.Cookies() {
		if c.Name == sessionCookie {
			found = c.MaxAge == 5400
		}
	}
	if !found || p.StatusCode != http.StatusSeeOther {
		t.Fatalf("session cookie: %v", p.Header["Set-Cookie"])
	}
}

func TestLogoutPageNamesClient(t *testing.T) {
	e := newLoginEnv(t, withBranding(""))
	b := e.signedInBrowser()
	p := b.get(e.issuer + PathEndSession + "?client_id=spa")
	if !strings.Contains(p.body, "The application <strong>Example Portal</strong> asked to sign you out.") ||
		!strings.Contains(p.body, `name="client_id" value="spa"`) {
		t.Fatalf("logout page: %s", p.body)
	}
}
