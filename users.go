package signet

import (
	"log/slog"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/user"
	"github.com/signet-id/signet/userstore"
)

// UserStore returns the user store of the opened key store (memory,
// SQLite, PostgreSQL), or nil for a store that keeps no users (the file
// store).
func UserStore(store keystore.Store) userstore.Store {
	us, _ := store.(userstore.Store)
	return us
}

// PasswordPolicy is the configured password policy (passwords). With
// breached, it reads passwords.breachedPasswordsFile (signet users sets
// passwords; serve only upgrades hashes and needs no list).
func PasswordPolicy(cfg *config.Config, breached bool) (*userstore.Policy, error) {
	p := &userstore.Policy{MinLength: cfg.Passwords.MinLength, Argon2: cfg.Passwords.Argon2id}
	if breached && cfg.Passwords.BreachedPasswordsFile != "" {
		b, err := userstore.LoadBreached(cfg.Passwords.BreachedPasswordsFile)
		if err != nil {
			return nil, err
		}
		p.Breached = b
	}
	return p, nil
}

// UserSources returns the server's users when the store keeps users: the
// configuration's (read-only; Set them again on reload) then the store's,
// as one user.Chain for server.Config.UserSource, checked under hashing
// (server.Config.Hashing). It returns nils when the store keeps no users:
// the configuration's users are then server.Config.Users.
func UserSources(cfg *config.Config, store keystore.Store, hashing clientauth.Budget, log *slog.Logger) (*server.StaticUsers, user.Source, error) {
	us := UserStore(store)
	if us == nil {
		return nil, nil, nil
	}
	static, err := server.NewStaticUsers(ServerUsers(cfg), hashing)
	if err != nil {
		return nil, nil, err
	}
	policy, err := PasswordPolicy(cfg, false)
	if err != nil {
		return nil, nil, err
	}
	src := &userstore.Source{Store: us, Policy: policy, Hashing: hashing, Logger: log}
	// An unknown username is checked against the costlier of the
	// policy's hash and the configuration's costliest one: it costs what
	// a wrong password of either kind costs.
	if d := static.Slowest(); d != nil {
		src.Dummy = d
	}
	return static, user.Chain{static, src}, nil
}
