package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/server"
)

// A token server over a key manager: discovery, the JWKS and the token
// endpoint for the configured clients. *Server is the http.Handler of an
// http.Server.
func ExampleNew() {
	opts := key.DefaultOptions()
	opts.ProtectKeys = false // an in-memory store: nothing at rest
	m, err := keymanager.New(keymanager.Config{Options: opts, Store: memstore.New()})
	if err != nil {
		panic(err)
	}
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	srv, err := server.New(server.Config{Issuer: "https://login.example.com", Keys: m})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", server.PathJWKS, nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	// Output: 200 public, max-age=0
}

// An application's own login page (Config.Login): the server hands it the
// pending authorization request on GET and on the form's POST, the page
// checks the password with CheckPassword (under the server's login
// budgets) and ends with Complete (or Cancel).
func ExampleLoginUIFunc() {
	page := server.LoginUIFunc(func(w http.ResponseWriter, r *http.Request, req *server.LoginRequest) {
		if r.Method == http.MethodGet {
			// Render a form that posts to req.Action() with
			// req.HiddenFields(), a username and a password.
			fmt.Println("sign in to", req.ClientID, "for", req.Scopes)
			fmt.Fprint(w, req.HiddenFields().Encode())
			return
		}
		r.ParseForm()
		sub, err := req.CheckPassword(r, r.PostForm.Get("username"), r.PostForm.Get("password"))
		if err != nil {
			http.Error(w, "wrong username or password", http.StatusOK)
			return
		}
		req.Complete(w, r, sub) // a new session, then a code for the client
	})

	opts := key.DefaultOptions()
	opts.ProtectKeys = false
	store := memstore.New() // keys and grants
	m, _ := keymanager.New(keymanager.Config{Options: opts, Store: store})
	if err := m.Start(context.Background()); err != nil {
		panic(err)
	}
	pw, _ := clientauth.ParseSecret("plain:demo") // use argon2id hashes (signet hash-password)
	srv, err := server.New(server.Config{Issuer: "https://login.example.com", Keys: m, Grants: store,
		Clients: []server.Client{{ID: "app", Public: true, GrantTypes: []string{"authorization_code"},
			IdentityScopes: []string{"openid"}, RedirectURIs: []string{"https://app.example.com/cb"}, AccessTokenLifetime: time.Hour}},
		Users: []server.User{{Subject: "u-1", Username: "alice", Password: pw}},
		Login: page})
	if err != nil {
		panic(err)
	}

	// The browser's side: the login page (after /connect/authorize
	// redirected there), then the form's POST with the CSRF cookie.
	q := url.Values{"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {"https://app.example.com/cb"},
		"scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	get := httptest.NewRecorder()
	srv.ServeHTTP(get, httptest.NewRequest("GET", server.PathLogin+"?"+q.Encode(), nil))
	form, _ := url.ParseQuery(get.Body.String())
	form.Set("username", "alice")
	form.Set("password", "demo")
	post := httptest.NewRequest("POST", server.PathLogin, strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range get.Result().Cookies() {
		post.AddCookie(c)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, post)
	loc, _ := url.Parse(w.Header().Get("Location"))
	fmt.Println(w.Code, loc.Host, loc.Query().Get("code") != "")
	// Output:
	// sign in to app for [openid]
	// 303 app.example.com true
}
