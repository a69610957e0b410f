package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// The server's users come from one user.Source (package user): the
// application's (Config.UserSource), or the built-in static list
// (Config.Users, SetUsers: the YAML users), which staticSource serves
// through the same interfaces. Everything else in the package asks the
// source: the login page (checkPassword, under the login budgets), the
// login sessions (currentSession), the grants (userEnv.UserActive),
// userinfo and the ID token's claims.

// User is a person who signs in on the login page.
type User struct {
	// Subject is the stable identifier put in tokens as sub.
	Subject string
	// Username is what the person types; matched exactly.
	Username string
	// Password verifies the password (an argon2id hash).
	Password *clientauth.Secret
	// Claims are released by scope: the profile claims with profile, email
	// and email_verified with email.
	Claims map[string]any
}

// SetUsers replaces the users. Sign-ins in flight finish with the previous
// set. It fails when the server has no grant store, and when users is not
// empty and the users come from Config.UserSource.
func (s *Server) SetUsers(users []User) error {
	if s.oidc == nil {
		if len(users) == 0 {
			return nil
		}
		return errors.New("server: users need a grant store (Config.Grants)")
	}
	if s.oidc.custom && len(users) > 0 {
		return errors.New("server: the users come from Config.UserSource; SetUsers cannot add built-in users beside it")
	}
	reg, err := compileUsers(users, s.rand)
	if err != nil {
		return err
	}
	s.oidc.users.Store(reg)
	return nil
}

// userRegistry is the compiled, immutable set of users.
type userRegistry struct {
	byName    map[string]*staticUser
	bySubject map[string]*staticUser
	// dummy is verified against for an unknown username: a secret with
	// the parameters of the most expensive password hash, so an unknown
	// user costs what a wrong password costs.
	dummy *clientauth.Secret
}

type staticUser struct {
	subject  string
	username string
	password *clientauth.Secret
	claims   map[string]any
}

func compileUsers(users []User, rnd io.Reader) (*userRegistry, error) {
	reg := &userRegistry{byName: make(map[string]*staticUser, len(users)), bySubject: make(map[string]*staticUser, len(users))}
	var slowest *clientauth.Secret
	for _, u := range users {
		switch {
		case u.Subject == "" || u.Username == "":
			return nil, errors.New("server: a user has no subject or username")
		case u.Password == nil:
			return nil, fmt.Errorf("server: user %q has no password", u.Username)
		case reg.bySubject[u.Subject] != nil:
			return nil, fmt.Errorf("server: subject %q is used twice", u.Subject)
		case reg.byName[u.Username] != nil:
			return nil, fmt.Errorf("server: username %q is used twice", u.Username)
		}
		x := &staticUser{subject: u.Subject, username: u.Username, password: u.Password, claims: u.Claims}
		reg.byName[u.Username] = x
		reg.bySubject[u.Subject] = x
		if slowest == nil || u.Password.Cost() > slowest.Cost() {
			slowest = u.Password
		}
	}
	if slowest == nil {
		var err error
		if slowest, err = clientauth.ParseSecret(clientauth.HashSHA256("signet: no users")); err != nil {
			return nil, err
		}
	}
	d, err := slowest.Dummy(rnd)
	if err != nil {
		return nil, err
	}
	reg.dummy = d
	return reg, nil
}

// displayName is what a page calls the signed-in subject: the source's
// preferred_username, else its name, else the subject (user.CallerPage).
func (s *Server) displayName(ctx context.Context, subject string) string {
	c, err := s.oidc.source.Claims(ctx, user.ClaimsRequest{Subject: subject, Scopes: []string{scopeOpenID, scopeProfile}, Caller: user.CallerPage})
	if err != nil {
		s.log.Warn("the user source failed; the page shows the subject", "error", err)
		return subject
	}
	for _, name := range []string{"preferred_username", "name"} {
		if v, ok := c[name].(string); ok && v != "" {
			return v
		}
	}
	return subject
}

// sourceClaims asks the user source for the claims of req; a failure is
// logged and answered temporarily_unavailable.
func (s *Server) sourceClaims(ctx context.Context, req user.ClaimsRequest) (map[string]any, *oauth.Error) {
	c, err := s.oidc.source.Claims(ctx, req)
	if err != nil {
		s.log.Error("the user source failed to give claims", "caller", string(req.Caller), "sub", req.Subject, "error", err)
		return nil, oauth.Unavailable()
	}
	return c, nil
}

// userActive asks the user source whether subject is active: nil when
// it is, invalid_grant when not, temporarily_unavailable when the source
// failed (logged).
func (s *Server) userActive(ctx context.Context, subject string) *oauth.Error {
	active, err := s.oidc.source.Active(ctx, subject)
	if err != nil {
		s.log.Error("the user source failed to say whether a user is active", "sub", subject, "error", err)
		return oauth.Unavailable()
	}
	if !active {
		return oauth.InvalidGrant("the user no longer exists")
	}
	return nil
}

// reservedClaim reports whether the server sets the claim name itself: a
// user source's claim of that name is ignored (user.IsReservedClaim).
func reservedClaim(name string) bool { return user.IsReservedClaim(name) }

// withClaims returns the JSON of base (a struct of the server's claims)
// with the user source's claims extra added, except the reserved ones.
func withClaims(base any, extra map[string]any) (json.RawMessage, error) {
	b, err := json.Marshal(base)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	m := make(map[string]any)
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if !reservedClaim(k) {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// staticSource serves the built-in users (Config.Users, SetUsers) as a
// user.Source. Passwords are verified under the server's hashing budget;
// an unknown username is verified against the registry's dummy, at the
// cost of the most expensive hash.
type staticSource struct {
	users   *atomic.Pointer[userRegistry]
	hashing clientauth.Budget
}

func (st staticSource) Authenticate(ctx context.Context, username, password string) (string, error) {
	users := st.users.Load()
	u := users.byName[username]
	check := users.dummy // the same work as a wrong password
	if u != nil {
		check = u.password
	}
	ok, err := clientauth.Check(ctx, st.hashing, []*clientauth.Secret{check}, password)
	if err != nil {
		return "", fmt.Errorf("%w: %w", user.ErrUnavailable, err)
	}
	if !ok || u == nil {
		return "", user.ErrInvalidCredentials
	}
	return u.subject, nil
}

func (st staticSource) Active(_ context.Context, subject string) (bool, error) {
	return st.users.Load().bySubject[subject] != nil, nil
}

// Claims releases the configured claims by scope at userinfo, and none
// in ID tokens (OpenID Connect Core 5.4: an access token is issued, so
// the scope claims are at userinfo).
func (st staticSource) Claims(_ context.Context, req user.ClaimsRequest) (map[string]any, error) {
	if req.Caller != user.CallerUserinfo && req.Caller != user.CallerPage {
		return nil, nil
	}
	u := st.users.Load().bySubject[req.Subject]
	if u == nil {
		return nil, nil
	}
	if req.Caller == user.CallerPage {
		return map[string]any{"preferred_username": u.username}, nil
	}
	return user.ReleaseAll(u.claims, req.Scopes), nil
}

// HasUsername reports whether username is a built-in user (user.Directory).
func (st staticSource) HasUsername(_ context.Context, username string) (bool, error) {
	return st.users.Load().byName[username] != nil, nil
}

// HasSubject reports whether subject is a built-in user (user.Directory).
func (st staticSource) HasSubject(_ context.Context, subject string) (bool, error) {
	return st.users.Load().bySubject[subject] != nil, nil
}

// StaticUsers is the built-in user source (a static list: the YAML users)
// as a user.Source and user.Directory of its own, for a user.Chain in
// Config.UserSource beside other sources. Set replaces the list.
type StaticUsers struct {
	staticSource
	users atomic.Pointer[userRegistry]
}

var (
	_ user.Source    = (*StaticUsers)(nil)
	_ user.Directory = (*StaticUsers)(nil)
)

// NewStaticUsers returns the users as a source whose passwords are
// checked under hashing (the server's budget, Config.Hashing).
func NewStaticUsers(users []User, hashing clientauth.Budget) (*StaticUsers, error) {
	st := &StaticUsers{}
	st.staticSource = staticSource{users: &st.users, hashing: hashing}
	if err := st.Set(users); err != nil {
		return nil, err
	}
	return st, nil
}

// Set replaces the users. Sign-ins in flight finish with the previous
// set.
func (st *StaticUsers) Set(users []User) error {
	reg, err := compileUsers(users, nil)
	if err != nil {
		return err
	}
	st.users.Store(reg)
	return nil
}

// Slowest returns the dummy of the costliest password hash (what an
// unknown username is checked against), or nil when there are no users.
func (st *StaticUsers) Slowest() *clientauth.Secret {
	reg := st.users.Load()
	if len(reg.byName) == 0 {
		return nil
	}
	return reg.dummy
}

// HasUsers reports whether the list holds any user (user.Chain.HasUsers).
func (st *StaticUsers) HasUsers(context.Context) (bool, error) {
	return len(st.users.Load().bySubject) > 0, nil
}
