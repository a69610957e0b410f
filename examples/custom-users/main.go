// Command custom-users is Signet's token server embedded in a program that
// brings its own people: an in-memory user store (package user's
// Authenticator and Profiles) and its own login page (server.LoginUI).
// Keys and grants live in memory; the signing keys still rotate on their
// own.
//
//	go run ./examples/custom-users -listen 127.0.0.1:8080 -redirect http://127.0.0.1:9000/callback
//
// then send a browser to
//
//	http://127.0.0.1:8080/connect/authorize?response_type=code&client_id=demo-app&redirect_uri=...&scope=openid%20profile%20email&code_challenge=...&code_challenge_method=S256
//
// and sign in as alice / "down the rabbit hole" or bob / "builder's yard".
// With CUSTOM_USERS_ADMIN_TOKEN set, POST /admin/users/{username}/disable
// (Authorization: Bearer <token>) disables a user: their refresh tokens,
// userinfo calls and login sessions stop working at once.
//
// It prints "listening on http://ADDR" once it serves.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "custom-users:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8080", "the address to serve on")
	redirect := flag.String("redirect", "http://127.0.0.1:9000/callback", "the demo client's redirect URI")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// One in-memory store keeps the keys and the grants (codes, refresh
	// tokens, login sessions).
	store := memstore.New()
	m, err := startKeys(ctx, store, log)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	mctx, stopManager := context.WithCancel(context.Background())
	defer stopManager()
	wg.Go(func() { _ = m.Run(mctx) })

	// One hashing budget for the server and the user store: password
	// hashing stays bounded in memory whoever verifies.
	hashing := throttle.NewHashing(256*1024, 64)
	users, err := newUserStore(hashing)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	issuer := "http://" + ln.Addr().String()
	srv, err := server.New(server.Config{
		Issuer: issuer,
		Keys:   m,
		Clients: []server.Client{{
			ID:                   "demo-app",
			Public:               true, // a browser app: PKCE, no secret
			GrantTypes:           []string{"authorization_code", "refresh_token"},
			IdentityScopes:       []string{"openid", "profile", "email", "offline_access"},
			RedirectURIs:         []string{*redirect},
			AccessTokenLifetime:  10 * time.Minute,
			RefreshTokenLifetime: 24 * time.Hour,
		}},
		Grants:     store,
		UserSource: users,          // who signs in, their claims, whether they are active
		Login:      newLoginPage(), // the page they sign in on
		Hashing:    hashing,
		Logger:     log,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/", srv) // discovery, JWKS, authorize, login, token, userinfo, ...
	if token := os.Getenv("CUSTOM_USERS_ADMIN_TOKEN"); token != "" {
		mux.HandleFunc("POST /admin/users/{username}/disable", func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			if !users.Disable(r.PathValue("username")) {
				http.Error(w, "no such user", http.StatusNotFound)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	wg.Go(func() { _ = hs.Serve(ln) })
	fmt.Printf("listening on %s\n", issuer)

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	stopManager()
	return err
}

// startKeys starts a key manager over store, its keys sealed with a secret
// drawn now (they live only as long as the process).
func startKeys(ctx context.Context, store *memstore.Store, log *slog.Logger) (*keymanager.Manager, error) {
	secret := rand.Text() + rand.Text() // 52 random base32 characters
	sealer, err := seal.New([][]byte{[]byte(secret)})
	if err != nil {
		return nil, err
	}
	opts := key.DefaultTimingOptions()
	opts.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.ES256}}
	opts.LongestTokenLifetime, opts.LongestTokenSource = 24*time.Hour, "refreshTokenLifetime"
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := keymanager.New(keymanager.Config{Options: opts.Options, Store: store, Sealer: sealer, Logger: log})
	if err != nil {
		return nil, err
	}
	return m, m.Start(ctx)
}

// account is a person in the user store.
type account struct {
	subject  string
	username string
	password *clientauth.Secret // argon2id
	name     string
	email    string
	groups   []string
	disabled bool
}

// userStore is the application's own user store, in memory. It
// implements user.Source: Authenticate for the login page, Active and
// Claims for the token server.
type userStore struct {
	hashing clientauth.Budget
	dummy   *clientauth.Secret // verified for an unknown username: the same cost

	mu        sync.RWMutex // guards byName, bySubject and the accounts
	byName    map[string]*account
	bySubject map[string]*account
}

func newUserStore(hashing clientauth.Budget) (*userStore, error) {
	s := &userStore{hashing: hashing, byName: map[string]*account{}, bySubject: map[string]*account{}}
	for _, a := range []struct {
		sub, username, password, name, email string
		groups                               []string
	}{
		{"9f1c0c1e-5b8a-4f57-a3c2-0d7e6b1a2c3d", "alice", "down the rabbit hole", "Alice Liddell", "alice@example.com", []string{"admins", "readers"}},
		{"2b7d4e9f-1c3a-4b6e-8d5f-7a9c0e1b2d4f", "bob", "builder's yard", "Bob Builder", "bob@example.com", []string{"readers"}},
	} {
		phc, err := clientauth.HashArgon2id(a.password, nil)
		if err != nil {
			return nil, err
		}
		pw, err := clientauth.ParseSecret(phc)
		if err != nil {
			return nil, err
		}
		acc := &account{subject: a.sub, username: a.username, password: pw, name: a.name, email: a.email, groups: a.groups}
		s.byName[acc.username], s.bySubject[acc.subject] = acc, acc
		if s.dummy == nil {
			if s.dummy, err = pw.Dummy(nil); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Authenticate checks a password under the shared hashing budget; an
// unknown or disabled user costs the same as a wrong password.
func (s *userStore) Authenticate(ctx context.Context, username, password string) (string, error) {
	s.mu.RLock()
	a := s.byName[username]
	var subject string
	check, disabled := s.dummy, false
	if a != nil {
		check, subject, disabled = a.password, a.subject, a.disabled
	}
	s.mu.RUnlock()
	ok, err := clientauth.Check(ctx, s.hashing, []*clientauth.Secret{check}, password)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: %w", user.ErrUnavailable, err)
	case !ok || a == nil || disabled:
		return "", user.ErrInvalidCredentials
	}
	return subject, nil
}

// Active: the user exists and is not disabled.
func (s *userStore) Active(_ context.Context, subject string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.bySubject[subject]
	return a != nil && !a.disabled, nil
}

// Claims: the standard claims by scope at userinfo, and the name, email
// and groups in the ID token (the app reads them from there).
func (s *userStore) Claims(_ context.Context, req user.ClaimsRequest) (map[string]any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.bySubject[req.Subject]
	if a == nil {
		return nil, nil
	}
	all := map[string]any{"name": a.name, "preferred_username": a.username, "email": a.email, "email_verified": true}
	switch req.Caller {
	case user.CallerIDToken:
		c := user.Release(all, req.Scopes)
		if c == nil {
			c = map[string]any{}
		}
		c["groups"] = a.groups
		return c, nil
	case user.CallerPage:
		return map[string]any{"preferred_username": a.username}, nil
	default:
		return user.Release(all, req.Scopes), nil
	}
}

// Disable marks username disabled; false when there is no such user.
func (s *userStore) Disable(username string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.byName[username]
	if a == nil {
		return false
	}
	a.disabled = true
	return true
}

// loginPage is the application's own sign-in page (server.LoginUI).
type loginPage struct{ t *template.Template }

func newLoginPage() *loginPage {
	return &loginPage{t: template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Example Corp</title></head>
<body><main>
<h1>Example Corp</h1>
<p>Sign in to continue to <strong>{{.ClientID}}</strong>.</p>
{{with .Error}}<p role="alert">{{.}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $name, $v := .Hidden}}<input type="hidden" name="{{$name}}" value="{{index $v 0}}">
{{end}}<label>Username <input name="username" value="{{.Username}}" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
<button type="submit" name="cancel" value="1" formnovalidate>Cancel</button>
</form>
</main></body></html>
`))}
}

type loginView struct {
	ClientID, Action, Username, Error string
	Hidden                            map[string][]string
}

// ServeLogin shows the form (GET) or signs in (POST: the server has
// checked the CSRF token already).
func (p *loginPage) ServeLogin(w http.ResponseWriter, r *http.Request, req *server.LoginRequest) {
	if r.Method != http.MethodPost {
		p.render(w, http.StatusOK, req, req.LoginHint, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("cancel") != "" {
		req.Cancel(w, r) // access_denied to the client
		return
	}
	username := r.PostForm.Get("username")
	subject, err := req.CheckPassword(r, username, r.PostForm.Get("password")) // under the server's login budgets
	var tooMany *server.TooManyAttemptsError
	switch {
	case errors.As(err, &tooMany):
		w.Header().Set("Retry-After", fmt.Sprint(int(tooMany.RetryAfter.Seconds())+1))
		p.render(w, http.StatusTooManyRequests, req, username, "Too many failed sign-ins. Try again later.")
	case errors.Is(err, user.ErrInvalidCredentials):
		p.render(w, http.StatusOK, req, username, "Wrong username or password.")
	case err != nil:
		w.Header().Set("Retry-After", "1")
		p.render(w, http.StatusServiceUnavailable, req, username, "We cannot sign you in right now. Try again in a moment.")
	default:
		req.Complete(w, r, subject) // a new session, then back to the client with a code
	}
}

func (p *loginPage) render(w http.ResponseWriter, status int, req *server.LoginRequest, username, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = p.t.Execute(w, loginView{ClientID: req.ClientID, Action: req.Action(), Username: username, Error: msg, Hidden: req.HiddenFields()})
}
