// Command goweb is a Go web application that signs its users in with
// Signet: authorization code flow with PKCE (golang.org/x/oauth2), the ID
// token verified by github.com/coreos/go-oidc/v3 (signature against the
// JWKS, issuer, audience, expiry, nonce, at_hash), userinfo, refresh and
// RP-initiated logout. docs/connect/go-web.md explains it.
//
// Configuration, from the environment:
//
//	SIGNET_ISSUER  the issuer, e.g. https://login.example.com
//	CLIENT_ID      the client's clientId in Signet's configuration
//	CLIENT_SECRET  its secret
//	APP_URL        where this app is reached, e.g. http://127.0.0.1:3000;
//	               it listens on that host:port, receives codes at
//	               APP_URL/callback and users come back to APP_URL/
//	               after logout
//
// Routes: /login starts a sign-in, /callback finishes it, /me shows the
// user (from userinfo, with the current access token), POST /refresh
// refreshes the tokens, /logout ends the local and the Signet session.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

type session struct {
	// Before the callback: what the callback checks.
	state, nonce, verifier string
	// After it.
	sub     string
	token   *oauth2.Token
	idToken string
}

type app struct {
	url        string
	oauth      oauth2.Config
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	endSession string

	mu       sync.Mutex
	sessions map[string]*session // by the "session" cookie
}

func main() {
	issuer, appURL := os.Getenv("SIGNET_ISSUER"), os.Getenv("APP_URL")
	u, err := url.Parse(appURL)
	if issuer == "" || err != nil || u.Host == "" {
		log.Fatal("set SIGNET_ISSUER, CLIENT_ID, CLIENT_SECRET and APP_URL (e.g. http://127.0.0.1:3000)")
	}
	ctx := context.Background()
	// Discovery: the endpoints and the JWKS URL. go-oidc's key set
	// caches the JWKS and refetches it when a token names an unknown kid.
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		log.Fatalf("discovery: %v", err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&meta); err != nil {
		log.Fatal(err)
	}
	clientID := os.Getenv("CLIENT_ID")
	a := &app{
		url: appURL,
		oauth: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: os.Getenv("CLIENT_SECRET"),
			Endpoint:     provider.Endpoint(),
			RedirectURL:  appURL + "/callback",
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
		},
		provider:   provider,
		verifier:   provider.Verifier(&oidc.Config{ClientID: clientID}),
		endSession: meta.EndSession,
		sessions:   map[string]*session{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("signed out\n")) })
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /me", a.me)
	mux.HandleFunc("POST /refresh", a.refresh)
	mux.HandleFunc("GET /logout", a.logout)
	srv := &http.Server{Addr: u.Host, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("listening on %s", appURL)
	log.Fatal(srv.ListenAndServe())
}

// login starts the authorization code flow: a fresh state, nonce and PKCE
// verifier, kept in a new session.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	s := &session{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	to := a.oauth.AuthCodeURL(s.state, oidc.Nonce(s.nonce), oauth2.S256ChallengeOption(s.verifier))
	id := rand.Text()
	a.mu.Lock()
	a.sessions[id] = s
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, to, http.StatusFound)
}

func (a *app) session(r *http.Request) *session {
	c, err := r.Cookie("session")
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value]
}

// signedIn returns the request's session with its tokens and subject;
// nil tokens when it has not signed in.
func (a *app) signedIn(r *http.Request) (*session, *oauth2.Token, string) {
	s := a.session(r)
	if s == nil {
		return nil, nil, ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return s, s.token, s.sub
}

// callback checks the state, exchanges the code with the PKCE verifier and
// verifies the ID token.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	q := r.URL.Query()
	// The pending sign-in is used once, matching or not.
	var state, nonce, verifier string
	if s != nil {
		a.mu.Lock()
		state, nonce, verifier = s.state, s.nonce, s.verifier
		s.state, s.nonce, s.verifier = "", "", ""
		a.mu.Unlock()
	}
	switch {
	case state == "" || q.Get("state") != state:
		http.Error(w, "unknown or replayed sign-in (state)", http.StatusBadRequest)
		return
	case q.Get("error") != "":
		http.Error(w, "sign-in failed: "+q.Get("error")+": "+q.Get("error_description"), http.StatusBadRequest)
		return
	}
	tok, err := a.oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		http.Error(w, "code exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err == nil && idt.Nonce != nonce {
		err = errors.New("the nonce does not match")
	}
	if err == nil && idt.AccessTokenHash != "" {
		err = idt.VerifyAccessToken(tok.AccessToken)
	}
	if err != nil {
		http.Error(w, "ID token: "+err.Error(), http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	s.sub, s.token, s.idToken = idt.Subject, tok, raw
	a.mu.Unlock()
	http.Redirect(w, r, "/me", http.StatusFound)
}

// me shows the user as userinfo returns it for the current access token.
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	_, tok, sub := a.signedIn(r)
	if tok == nil {
		http.Error(w, "not signed in: /login", http.StatusUnauthorized)
		return
	}
	ui, err := a.provider.UserInfo(r.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		http.Error(w, "userinfo: "+err.Error(), http.StatusBadGateway)
		return
	}
	var claims struct {
		Name string `json:"name"`
	}
	if err := ui.Claims(&claims); err != nil || ui.Subject != sub {
		http.Error(w, "userinfo names another subject", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"sub": ui.Subject, "name": claims.Name, "email": ui.Email})
}

// refresh uses the refresh token; Signet rotates it, so the new one
// replaces it. A new ID token must name the same subject.
func (a *app) refresh(w http.ResponseWriter, r *http.Request) {
	s, old, sub := a.signedIn(r)
	if old == nil {
		http.Error(w, "not signed in: /login", http.StatusUnauthorized)
		return
	}
	tok, err := a.oauth.TokenSource(r.Context(), &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	if err != nil {
		http.Error(w, "refresh: "+err.Error(), http.StatusUnauthorized)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw != "" {
		idt, err := a.verifier.Verify(r.Context(), raw)
		if err == nil && idt.Subject != sub {
			err = errors.New("the refreshed ID token names another subject")
		}
		if err != nil {
			http.Error(w, "ID token: "+err.Error(), http.StatusUnauthorized)
			return
		}
	}
	a.mu.Lock()
	s.token = tok
	if raw != "" {
		s.idToken = raw
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"refreshed": true, "expiry": tok.Expiry})
}

// logout forgets the local session and sends the browser to Signet's
// end-session endpoint with the ID token as hint: Signet ends its own
// session without asking and sends the user back to APP_URL/.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	var idToken string
	if c, err := r.Cookie("session"); err == nil {
		a.mu.Lock()
		if s := a.sessions[c.Value]; s != nil {
			idToken = s.idToken
		}
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1})
	if idToken == "" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {a.url + "/"}}
	http.Redirect(w, r, a.endSession+"?"+q.Encode(), http.StatusFound)
}
