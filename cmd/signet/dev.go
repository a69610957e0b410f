package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
)

//go:embed dev.yaml
var devYAML []byte

// Where `serve --dev` keeps its data, relative to the working directory.
const (
	devDataDir    = "signet-data"
	devSecretFile = "demo-client-secret"
	devClientID   = "demo"
)

// devSetup is what `serve --dev` prints at start-up.
type devSetup struct {
	ClientID     string
	ClientSecret string
	SecretFile   string
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
	vars := map[string]string{
		"SIGNET_DEV_ISSUER":             issuer,
		"SIGNET_DEV_CLIENT_SECRET_HASH": clientauth.HashSHA256(secret),
	}
	cfg, err := config.Parse(devYAML, config.ParseOptions{
		Source:    "the embedded development configuration",
		LookupEnv: func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
	})
	if err != nil {
		return fail(err)
	}
	cfg.Listen = addr.String()
	return ln, cfg, &devSetup{ClientID: devClientID, ClientSecret: secret, SecretFile: secretFile}, nil
}

// devSecret reads the demo client's secret, generating it the first time.
func devSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", fmt.Errorf("%s is empty; delete it and start again to generate a new demo secret", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the demo client secret: %w", err)
	}
	s, err := clientauth.GenerateSecret(nil)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the demo client secret: %w", err)
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

Discovery: %s/.well-known/openid-configuration
JWKS:      %s/.well-known/openid-configuration/jwks
Stop with Ctrl-C.

`, cfg.Issuer, store, d.ClientID, d.ClientSecret, d.SecretFile, cfg.APIResources[0].Name, strings.Join(scopes, " "),
		d.ClientID, d.ClientSecret, cfg.Issuer, cfg.Issuer, cfg.Issuer)
}
