package user

import (
	"context"
	"errors"
)

// Errors of a source. Wrap them with %w to add detail.
var (
	// ErrInvalidCredentials: the username is unknown, the password wrong,
	// or the user may not sign in (disabled). The server shows one message
	// for all of them and counts a failed attempt.
	ErrInvalidCredentials = errors.New("user: invalid username or password")
	// ErrUnavailable: the source cannot answer now (busy, or a backend
	// down). The server gives the attempt back and answers 503 with
	// Retry-After.
	ErrUnavailable = errors.New("user: the user source is unavailable; retry shortly")
)

// Authenticator checks a password.
type Authenticator interface {
	// Authenticate returns the subject (the stable sub of the tokens) of
	// the user username when password is theirs. Otherwise it returns
	// ErrInvalidCredentials or ErrUnavailable (see the package
	// documentation); it should take as long for an unknown username as
	// for a wrong password.
	Authenticate(ctx context.Context, username, password string) (subject string, err error)
}

// Profiles is the profile service: what the server may say about a
// subject.
type Profiles interface {
	// Active reports whether subject may still use what it was given: a
	// login session, an authorization code, a refresh token, an access
	// token at userinfo. false (an unknown, removed or disabled user) is
	// answered as a user who no longer exists: no session, invalid_grant,
	// 401 at userinfo. An error is answered 503.
	Active(ctx context.Context, subject string) (bool, error)
	// Claims returns the claims of req.Subject that req.Scopes release
	// for req.Caller. The server adds sub and its own claims, and ignores
	// a returned claim that it sets itself (iss, sub, aud, exp, iat,
	// auth_time, nonce, at_hash, sid and the like). A nil map releases
	// nothing. Values must encode as JSON.
	Claims(ctx context.Context, req ClaimsRequest) (map[string]any, error)
}

// Source is a user store: both interfaces.
type Source interface {
	Authenticator
	Profiles
}

// Caller says where the claims of a ClaimsRequest go.
type Caller string

// Callers.
const (
	// CallerUserinfo: the UserInfo endpoint's answer (OpenID Connect Core
	// 5.3). The scopes are the identity scopes of the access token.
	CallerUserinfo Caller = "userinfo"
	// CallerIDToken: an ID token, at code exchange and at refresh. When
	// an access token is issued with it, OpenID Connect Core 5.4 puts
	// the scope claims at userinfo, not in the ID token: return only
	// what relying parties need in the ID token itself. The built-in
	// users return nothing here.
	CallerIDToken Caller = "id_token"
	// CallerPage: a page the server shows the signed-in user (the
	// sign-out confirmation), with the scopes openid and profile. The
	// server shows preferred_username, else name, else the subject. The
	// built-in users return their username as preferred_username.
	CallerPage Caller = "page"
)

// ClaimsRequest is a request for a subject's claims.
type ClaimsRequest struct {
	Subject  string
	ClientID string   // the client that receives them
	Scopes   []string // the granted identity scopes (openid, profile, email, ...)
	Caller   Caller
}

// ScopeClaims returns the standard claims scope releases (OpenID Connect
// Core 5.4): profile's, email's, address's and phone's, and Signet's
// groups scope's (the groups claim, a list of names); nil for any other
// scope.
func ScopeClaims(scope string) []string {
	switch scope {
	case "profile":
		return []string{"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
			"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"}
	case "email":
		return []string{"email", "email_verified"}
	case "address":
		return []string{"address"}
	case "phone":
		return []string{"phone_number", "phone_number_verified"}
	case "groups":
		return []string{"groups"}
	}
	return nil
}

// Release returns the claims of all that scopes release (ScopeClaims),
// for a source that keeps a user's claims in one map. It returns nil when
// none is released.
func Release(all map[string]any, scopes []string) map[string]any {
	var out map[string]any
	for _, sc := range scopes {
		for _, name := range ScopeClaims(sc) {
			if v, ok := all[name]; ok {
				if out == nil {
					out = make(map[string]any)
				}
				out[name] = v
			}
		}
	}
	return out
}
