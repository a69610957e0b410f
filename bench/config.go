package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/key"
)

// benchClient is the one client of the benchmark configuration.
const benchClient = "bench"

// serverConfig describes the configuration a benchmark server runs with.
type serverConfig struct {
	dir     string // data directory (SQLite database, protection secret)
	store   string // sqlite or memory
	algs    []key.Algorithm
	rsaBits int
	secret  string // the client's secret (its sha256: hash goes in the file)
	rotate  bool   // second-scale key lifetimes: keys rotate during load
}

// Key lifetimes of a rotating server: each algorithm's key signs for
// rotateInterval-rotatePropagation, so a successor is created every 4s
// per algorithm (two RSA key generations every 4s with RS256 and PS256).
const (
	rotateInterval    = "6s"
	rotatePropagation = "2s"
)

// scopeOf is the scope, and resourceOf the API resource, whose tokens alg
// signs: the resource allows that algorithm only, so a request's scope
// selects the signing key.
func scopeOf(alg key.Algorithm) string    { return "bench." + strings.ToLower(string(alg)) }
func resourceOf(alg key.Algorithm) string { return "api-" + strings.ToLower(string(alg)) }

// newSecret returns a random client secret.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// write writes the YAML configuration into c.dir and returns its path.
func (c *serverConfig) write() (string, error) {
	protection, err := newSecret()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by go run ./bench; removed when it ends.\n")
	fmt.Fprintf(&b, "issuer: http://127.0.0.1\nlisten: 127.0.0.1:0\n")
	if c.store == "sqlite" {
		fmt.Fprintf(&b, "storage: { driver: sqlite, dsn: %q }\n", filepath.Join(c.dir, "signet.db"))
	} else {
		fmt.Fprintf(&b, "storage: { driver: memory }\n")
	}
	b.WriteString("keyManagement:\n  enabled: true\n")
	lifetime := "1h"
	if c.rotate {
		fmt.Fprintf(&b, "  rotationInterval: %s\n  propagationTime: %s\n  retentionDuration: 2s\n  keyCacheDuration: 1s\n  jwksMaxAge: 1s\n",
			rotateInterval, rotatePropagation)
		lifetime = "1s"
	}
	fmt.Fprintf(&b, "  rsaKeySize: %d\n  signingAlgorithms:\n", c.rsaBits)
	for _, a := range c.algs {
		fmt.Fprintf(&b, "    - { name: %s }\n", a)
	}
	fmt.Fprintf(&b, "  protection: { enabled: true, secrets: [ %q ] }\n", protection)
	b.WriteString("apiResources:\n")
	for _, a := range c.algs {
		fmt.Fprintf(&b, "  - { name: %s, scopes: [ %s ], allowedAccessTokenSigningAlgorithms: [ %s ] }\n", resourceOf(a), scopeOf(a), a)
	}
	fmt.Fprintf(&b, "clients:\n  - clientId: %s\n    secrets: [ %q ]\n    allowedGrantTypes: [ client_credentials ]\n    allowedScopes: [ ",
		benchClient, clientauth.HashSHA256(c.secret))
	for i, a := range c.algs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(scopeOf(a))
	}
	fmt.Fprintf(&b, " ]\n    accessTokenLifetime: %s\n", lifetime)
	path := filepath.Join(c.dir, "signet.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}
