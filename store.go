package signet

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/keystore/filestore"
	"github.com/signet-id/signet/keystore/memstore"
	"github.com/signet-id/signet/keystore/sqlitestore"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
)

// OpenStore opens the key store the configuration names. The returned
// function closes it.
func OpenStore(ctx context.Context, cfg *config.Config) (keystore.Store, func() error, error) {
	noop := func() error { return nil }
	switch cfg.Storage.Driver {
	case config.DriverMemory:
		return memstore.New(), noop, nil
	case config.DriverFile:
		s, err := filestore.Open(cfg.Storage.KeyPath)
		if err != nil {
			return nil, nil, fmt.Errorf("open the file key store at %s: %w", cfg.Storage.KeyPath, err)
		}
		return s, noop, nil
	case config.DriverSQLite:
		s, err := sqlitestore.OpenWith(ctx, cfg.Storage.DSN, sqlitestore.Options{DurableReplay: cfg.Storage.DurableReplayRecords})
		if err != nil {
			return nil, nil, fmt.Errorf("open the SQLite key store %s: %w", cfg.Storage.DSN, err)
		}
		return s, s.Close, nil
	case config.DriverPostgres:
		return openPostgres(ctx, cfg)
	}
	return nil, nil, fmt.Errorf("storage.driver %q is not supported", cfg.Storage.Driver)
}

// NewSealer returns the sealer for the configured protection, creating the
// generated secret file when needed, or nil when protection is off.
func NewSealer(cfg *config.Config, log *slog.Logger, rnd io.Reader) (*seal.Sealer, error) {
	secrets, created, err := cfg.ProtectionSecrets(rnd)
	if err != nil {
		return nil, err
	}
	if secrets == nil {
		if cfg.KeyBackend.External() && cfg.Protection.Enabled {
			return nil, nil // the key backend holds the private keys
		}
		log.Warn("private keys are stored unencrypted (keyManagement.protection.enabled is false)")
		return nil, nil
	}
	if f := cfg.Protection.SecretFile; f != "" && !cfg.KeyBackend.External() {
		msg := "private keys are sealed with a secret generated beside the data, so a copy of the data is a copy of the keys; to supply your own, set keyManagement.protection.secrets to [\"${SIGNET_KEY_SECRET}\", \"<the contents of this file>\"] (your secret first, seals new keys; this one second, still opens the existing keys)"
		if created {
			msg = "generated a protection secret beside the data (once); " + msg
		}
		log.Warn(msg, "file", f)
	}
	s, err := seal.New(secrets)
	if err != nil {
		return nil, fmt.Errorf("keyManagement.protection.secrets: %w", err)
	}
	return s, nil
}

// ManagerConfig maps the configuration to the key manager's. signers is
// the open signing backend's factory (backend.Open).
func ManagerConfig(cfg *config.Config, store keystore.Store, sealer *seal.Sealer, signers keymanager.SignerFactory, log *slog.Logger) keymanager.Config {
	kc := keymanager.Config{
		Options: cfg.KeyManagement,
		Store:   store,
		Sealer:  sealer,
		Logger:  log,
		// The signing backend: pure Go, or OpenSSL in a build with
		// -tags openssl (see docs/openssl.md).
		SignerFactory: signers,
	}
	if sc := cfg.SigningCredential; sc != nil {
		kc.Static = &keymanager.StaticKey{KID: sc.KID, Algorithm: sc.Algorithm, Signer: sc.Signer, Public: sc.Public, Certificates: sc.Certificates}
	}
	for _, v := range cfg.ValidationKeys {
		kc.Validation = append(kc.Validation, keymanager.StaticKey{KID: v.KID, Algorithm: v.Algorithm, Public: v.Public, Certificates: v.Certificates})
	}
	return kc
}

// ServerConfig maps the configuration to the server's: serve's, and
// preflight's to run the server's checks. Build (signet_build_info) and
// Attempts ([AttemptStore]) are the caller's.
func ServerConfig(cfg *config.Config, keys server.Keys, grants grant.Store, log *slog.Logger) server.Config {
	clients, resources := ServerClients(cfg)
	return server.Config{
		Issuer:       cfg.Issuer,
		Keys:         keys,
		Clients:      clients,
		APIResources: resources,
		JWKSMaxAge:   cfg.JWKSMaxAge,
		Logger:       log,
		Grants:       grants,
		Users:        ServerUsers(cfg),
		// PAR for every client (discovery require_pushed_authorization_requests).
		RequirePushedAuthorizationRequests: cfg.RequirePushedAuthorizationRequests,
		// Login rate limits and logs see clients behind these proxies.
		TrustedProxies: cfg.TrustedProxies,
		Limits:         cfg.Limits,
		DPoP: server.DPoP{Algorithms: cfg.DPoP.AllowedSigningAlgorithms, ProofWindow: cfg.DPoP.ProofWindow,
			RequireNonce: cfg.DPoP.RequireNonce, NonceSecret: dpopNonceSecret(cfg, log)},
		SessionLifetime:    cfg.Session.Lifetime,
		SessionIdleTimeout: cfg.Session.IdleTimeout,
		UI:                 ServerUI(cfg),
	}
}

// ServerUI maps the configured ui section to the server's: the templates
// directory is read through os.DirFS.
func ServerUI(cfg *config.Config) server.UI {
	ui := server.UI{ProductName: cfg.UI.ProductName, TemplatesDir: cfg.UI.TemplatesDir,
		Stylesheet: cfg.UI.StylesheetCSS, ScopeDescriptions: cfg.UI.ScopeDescriptions}
	if cfg.UI.TemplatesDir != "" {
		ui.Templates = os.DirFS(cfg.UI.TemplatesDir)
	}
	return ui
}

// dpopNonceSecret derives the key of the DPoP nonces from the first
// protection secret (HKDF-SHA256, its own label), so that every instance
// sharing the store, which shares that secret, accepts the others'
// nonces, and no new secret needs distributing. Nil when nonces are not
// required or there is no protection secret (one instance: the server
// draws a random key; config check refuses that with PostgreSQL).
func dpopNonceSecret(cfg *config.Config, log *slog.Logger) []byte {
	if !cfg.DPoP.RequireNonce {
		return nil
	}
	secrets, _, err := cfg.ProtectionSecrets(nil)
	if err != nil || len(secrets) == 0 {
		if err != nil {
			log.Warn("DPoP nonces: no protection secret to derive their key from; this instance's nonces are its own", "error", err)
		}
		return nil
	}
	k, err := hkdf.Key(sha256.New, secrets[0], nil, "signet dpop nonce v1", 32)
	if err != nil { // only for an impossible length
		return nil
	}
	return k
}

// ServerClients maps the configured clients and API resources to the
// server's.
func ServerClients(cfg *config.Config) ([]server.Client, []server.APIResource) {
	clients := make([]server.Client, 0, len(cfg.Clients))
	for _, c := range cfg.Clients {
		api, identity := SplitScopes(c.AllowedScopes)
		var dpopAlgs []string // a FAPI 2.0 client's proofs: PS256, ES256, EdDSA
		if c.FAPI2() {
			for _, a := range config.FAPI2SigningAlgorithms() {
				dpopAlgs = append(dpopAlgs, string(a))
			}
		}
		clients = append(clients, server.Client{
			ID:                  c.ClientID,
			Secrets:             c.Secrets,
			GrantTypes:          c.AllowedGrantTypes,
			Scopes:              api,
			AccessTokenLifetime: c.AccessTokenLifetime,

			Public:                                c.Public,
			RedirectURIs:                          c.RedirectURIs,
			PostLogoutRedirectURIs:                c.PostLogoutRedirectURIs,
			RequirePushedAuthorizationRequests:    c.RequirePushedAuthorizationRequests,
			FAPI2:                                 c.FAPI2(),
			IdentityScopes:                        identity,
			AllowedIdentityTokenSigningAlgorithms: c.AllowedIdentityTokenSigningAlgorithms,
			RefreshTokenLifetime:                  c.RefreshTokenLifetime,
			RefreshTokenReuseInterval:             c.RefreshTokenReuseInterval,
			AllowedCORSOrigins:                    c.AllowedCORSOrigins,
			AllowedConnectors:                     c.AllowedConnectors,
			IDTokenLifetime:                       c.IdentityTokenLifetime,
			RequireDPoP:                           c.RequireDPoP,
			DPoPAlgorithms:                        dpopAlgs,
			JWKS:                                  c.JWKS,
			JWKSURI:                               c.JWKSURI,
			RequireConsent:                        c.RequireConsent,
			AllowRememberConsent:                  c.AllowRememberConsent,
			DisplayName:                           c.DisplayName,
			LogoURI:                               c.LogoURI,
			ClientURI:                             c.ClientURI,
			RequireMFA:                            c.RequireMFA,
		})
		if c.FAPI2() && (c.JWKS != nil || c.JWKSURI != "") {
			// FAPI 2.0: assertions signed with PS256, ES256 or EdDSA, for the issuer.
			clients[len(clients)-1].AssertionAlgorithms = config.FAPI2SigningAlgorithms()
			clients[len(clients)-1].AssertionIssuerAudience = true
		}
	}
	resources := make([]server.APIResource, 0, len(cfg.APIResources))
	for _, r := range cfg.APIResources {
		resources = append(resources, server.APIResource{Name: r.Name, Scopes: r.Scopes, AllowedSigningAlgorithms: r.AllowedAccessTokenSigningAlgorithms, Secrets: r.Secrets,
			JWKS: r.JWKS, JWKSURI: r.JWKSURI})
	}
	return clients, resources
}
