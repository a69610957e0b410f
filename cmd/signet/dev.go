package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/server"
)

//go:embed dev.yaml
var devYAML []byte

// devUsersYAML is appended to devYAML: the demo user, whose password hash
// is generated.
//
//go:embed dev-users.yaml
var devUsersYAML []byte

// Where `serve --dev` keeps its data, relative to the working directory.
const (
	devDataDir    = "signet-data"
	devSecretFile = "demo-client-secret"
	devClientID   = "demo"

	// The login flow's demo: a user and a public client whose redirect
	// URI is on localhost (nothing needs to listen there: the browser's
	// address bar shows the code).
	devPasswordFile = "demo-user-password"
	devUsername     = "demo"
	devAppID        = "demo-app"
	devRedirectURI  = "http://127.0.0.1:3000/callback" // as in dev.yaml
)

// devSetup is what `serve --dev` prints at start-up.
type devSetup struct {
	ClientID     string
	ClientSecret string
	SecretFile   string

	Username     string
	Password     string
	PasswordFile string
	AppID        string
	RedirectURI  string
	// Verifier is a PKCE code verifier; AuthorizeURL carries its
	// challenge.
	Verifier string
	// AdminAddr is the admin listener's address (/metrics).
	AdminAddr    string
	AuthorizeURL string
}

// startDev listens and builds the embedded development configuration: the
// issuer follows the address actually bound, the demo client's secret is
// generated once and kept under ./signet-data.
func startDev(listen string) (net.Listener, *config.Config, *devSetup, error) {
	if listen == "" {
		listen = config.DefaultListen
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, nil, nil, listenError(listen, err)
	}
	fail := func(err error) (net.Listener, *config.Config, *devSetup, error) {
		ln.Close()
		return nil, nil, nil, err
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	issuer := "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))

	if err := os.MkdirAll(devDataDir, 0o700); err != nil {
		return fail(fmt.Errorf("create the development data directory: %w", err))
	}
	secretFile := filepath.Join(devDataDir, devSecretFile)
	secret, err := devSecret(secretFile)
	if err != nil {
		return fail(err)
	}
	passwordFile := filepath.Join(devDataDir, devPasswordFile)
	password, err := devSecret(passwordFile)
	if err != nil {
		return fail(err)
	}
	passwordHash, err := clientauth.HashArgon2id(password, nil)
	if err != nil {
		return fail(err)
	}
	vars := map[string]string{
		"SIGNET_DEV_ISSUER":             issuer,
		"SIGNET_DEV_CLIENT_SECRET_HASH": clientauth.HashSHA256(secret),
		"SIGNET_DEV_USER_PASSWORD_HASH": passwordHash,
	}
	cfg, err := config.Parse(append(slices.Clip(devYAML), devUsersYAML...), config.ParseOptions{
		Source:    "the embedded development configuration",
		LookupEnv: func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
	})
	if err != nil {
		return fail(err)
	}
	cfg.Listen = addr.String()
	d := &devSetup{ClientID: devClientID, ClientSecret: secret, SecretFile: secretFile,
		Username: devUsername, Password: password, PasswordFile: passwordFile, AppID: devAppID, RedirectURI: devRedirectURI}
	if d.Verifier, d.AuthorizeURL, err = devAuthorizeURL(issuer); err != nil {
		return fail(err)
	}
	return ln, cfg, d, nil
}

// devAuthorizeURL returns a PKCE code verifier and an authorization
// request for the demo app that carries its S256 challenge.
func devAuthorizeURL(issuer string) (verifier, authorize string, err error) {
	if verifier, err = clientauth.GenerateSecret(nil); err != nil { // 43 base64url characters
		return "", "", err
	}
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {devAppID},
		"redirect_uri":          {devRedirectURI},
		"scope":                 {"openid profile email offline_access demo.read"},
		"state":                 {"dev"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return verifier, issuer + server.PathAuthorize + "?" + q.Encode(), nil
}

// devSecret reads a generated demo secret (the demo client's secret, the
// demo user's password), generating it the first time.
func devSecret(path string) (string, error) {
	b, err := config.ReadSecretFile(path) // refuses a file others can read
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("%s is empty; delete it and start again to generate a new demo secret", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the demo secret: %w", err)
	}
	s, err := clientauth.GenerateSecret(nil)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the demo secret: %w", err)
	}
	return s, nil
}

// printDevBanner tells a newcomer what is running and how to get a token.
func printDevBanner(w io.Writer, cfg *config.Config, d *devSetup) {
	var scopes []string
	for _, r := range cfg.APIResources {
		scopes = append(scopes, r.Scopes...)
	}
	store := string(cfg.Storage.Driver)
	if cfg.Storage.DSN != "" {
		store += " " + cfg.Storage.DSN
	}
	fmt.Fprintf(w, `
Signet development server (not for production: plain HTTP, demo client)

  issuer      %s
  key store   %s
  client      %s, secret %s (kept in %s)
  API         %s, scopes %s

Get a token:

  curl -s -u %s:%s -d grant_type=client_credentials %s/connect/token

Sign in as a user (the login flow, with PKCE):

  user        %s, password %s (kept in %s)
  app         %s, a public client

  1. Open this URL in a browser and sign in:

     %s

  2. The browser then goes to %s?code=...
     (nothing listens there; copy the code from the address bar) and,
     within 60 seconds, exchange it:

     curl -s -d grant_type=authorization_code -d client_id=%s \
          -d redirect_uri=%s -d code_verifier=%s \
          -d code=THE_CODE %s/connect/token

Discovery: %s/.well-known/openid-configuration
JWKS:      %s/.well-known/openid-configuration/jwks
Metrics:   http://%s/metrics (the admin listener, adminListen; also /readyz
           with the detail, and /healthz)
Stop with Ctrl-C.

`, cfg.Issuer, store, d.ClientID, d.ClientSecret, d.SecretFile, cfg.APIResources[0].Name, strings.Join(scopes, " "),
		d.ClientID, d.ClientSecret, cfg.Issuer,
		d.Username, d.Password, d.PasswordFile, d.AppID, d.AuthorizeURL, d.RedirectURI,
		d.AppID, d.RedirectURI, d.Verifier, cfg.Issuer,
		cfg.Issuer, cfg.Issuer, d.AdminAddr)
}
