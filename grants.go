package signet

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/server"
)

// GrantStore returns the grant store of the opened key store: the login
// flows keep codes, refresh tokens, sessions and revocations beside the
// keys (memory, SQLite, PostgreSQL). The file store keeps keys only; the
// configuration already refuses users and authorization_code clients with
// it, so here it means a server without the login flows (nil).
func GrantStore(cfg *config.Config, store keystore.Store, log *slog.Logger) (grant.Store, error) {
	gs, ok := store.(grant.Store)
	if ok {
		return gs, nil
	}
	if needsLogin(cfg) {
		return nil, fmt.Errorf("storage.driver %s cannot keep grants (codes, refresh tokens, sessions), which the configured users and authorization_code clients need; use sqlite, postgres or memory", cfg.Storage.Driver)
	}
	log.Info("the key store keeps keys only: the login flows (authorize, userinfo, introspection, revocation, end session) are off", "store", string(cfg.Storage.Driver))
	return nil, nil
}

// needsLogin reports whether the configuration uses the login flows.
func needsLogin(cfg *config.Config) bool {
	if len(cfg.Users) > 0 {
		return true
	}
	for _, c := range cfg.Clients {
		if slices.Contains(c.AllowedGrantTypes, config.GrantAuthorizationCode) {
			return true
		}
	}
	return false
}

// ServerUsers maps the configured users to the server's.
func ServerUsers(cfg *config.Config) []server.User {
	out := make([]server.User, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		out = append(out, server.User{Subject: u.Subject, Username: u.Username, Password: u.Password, Claims: u.Claims})
	}
	return out
}

// SplitScopes separates a client's allowed scopes into API scopes and
// OpenID Connect scopes.
func SplitScopes(scopes []string) (api, identity []string) {
	for _, s := range scopes {
		if config.IsIdentityScope(s) {
			identity = append(identity, s)
		} else {
			api = append(api, s)
		}
	}
	return api, identity
}
