package signet

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/mfa"
	"github.com/signet-id/signet/seal"
	"github.com/signet-id/signet/server"
)

// MFAStore returns the second-factor store of the opened key store (the
// memory, SQLite and PostgreSQL stores keep them beside the grants), or
// nil.
func MFAStore(store keystore.Store) mfa.Store {
	ms, _ := store.(mfa.Store)
	return ms
}

// ServerMFA maps the configuration to the server's second factor: a
// Manager over the store's mfa.Store, sealing TOTP secrets with sealer
// (the key-protection sealer). Without a sealer or a store that keeps
// second factors there is none (the configuration refuses policies that
// need one); the authenticator apps show the issuer's host.
func ServerMFA(cfg *config.Config, store keystore.Store, sealer *seal.Sealer, log *slog.Logger) (server.MFA, error) {
	ms := MFAStore(store)
	if ms == nil || sealer == nil {
		if ms != nil {
			log.Info("no second factor: there is no protection secret to seal TOTP secrets with (keyManagement.protection)")
		}
		return server.MFA{}, nil
	}
	label := cfg.Issuer
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Host != "" {
		label = u.Host
	}
	m, err := mfa.New(mfa.Config{Store: ms, Sealer: sealer, Issuer: label})
	if err != nil {
		return server.MFA{}, fmt.Errorf("second factor: %w", err)
	}
	return server.MFA{Manager: m, Required: cfg.MFA.Required, RequiredSubjects: cfg.MFA.RequiredSubjects}, nil
}
